/**
 * @module What `npm run eval:recs` prints: the dataset and split, the four-row table, whether
 * Nudge beats every baseline and by how much, the blend diagnostics and the time per phase.
 * Pure formatting; the figures come from eval-recs.ts.
 */
import type { DatasetShape, Scores } from './eval-recs-score'

export type Row = {
  method: string
  scores: Scores
  /** Hits on held-out items that were re-visits, and on items new to the shopper. */
  hits: { revisit: number; fresh: number }
}

export type Report = {
  /** How the dataset is labelled: the file, or SYNTHETIC with how it was made. */
  dataset: string
  shape: DatasetShape
  k: number
  minEvents: number
  evaluated: number
  trainingEvents: number
  heldOutEvents: number
  revisits: number
  known: number
  importSummary: string
  /** Seconds every event was moved by (0: timestamps as in the file). */
  shiftSeconds: number
  database: string
  prefix: string
  missingProfiles: number
  failedJobs: number
  rows: Row[]
  diagnostics: Row[]
  /** Mean number of a served top-k's items also in the default blend recomputed at the end. */
  sharedWithRecomputed: number | undefined
  phases: [string, number][]
}

const pct = (x: number) => `${Math.round(x * 100)}%`
const fixed = (x: number) => x.toFixed(3)

/** Below this many evaluated shoppers a ranking of methods is noise, and the report says so. */
const SMALL_SAMPLE = 200

/**
 * The whole report as lines.
 * @example process.stdout.write(`${formatReport(report).join('\n')}\n`)
 */
export function formatReport(r: Report): string[] {
  const { shape, k } = r
  const lines = [
    `Nudge recommendations eval — HitRate@${k} and NDCG@${k}, each shopper's last event held out`,
    `dataset: ${r.dataset}`,
    `  ${shape.events} events, ${shape.shoppers} shoppers (${pct(shape.shortShoppers)} with 1–5 events), ${shape.items} items (${pct(shape.onceItems)} seen once)`,
    `  ${r.evaluated} shoppers with ≥ ${r.minEvents} events evaluated; their last events (${r.heldOutEvents}) held out and NOT imported; ${r.trainingEvents} training events imported, oldest first`,
    `  held-out item is a re-visit for ${r.revisits}/${r.evaluated} shoppers, in the training data at all for ${r.known}/${r.evaluated} (an item nobody has seen cannot be recommended)`,
    `  import: ${r.importSummary}`,
    `  time: ${r.shiftSeconds === 0 ? 'timestamps as in the file' : `every event moved by ${(r.shiftSeconds / 86_400).toFixed(1)} days so the newest is a minute old; gaps unchanged (--keep-time to import them as they are)`}`,
    `  pipeline: real api on 127.0.0.1 + startWorkers, Redis prefix ${r.prefix}, ${r.database}`,
  ]
  if (r.evaluated < SMALL_SAMPLE) {
    const step = r.evaluated === 0 ? 0 : 1 / r.evaluated
    lines.push(
      `  TINY SAMPLE: ${r.evaluated} evaluated shoppers; one hit moves HitRate@${k} by ${fixed(step)}. A smoke test of the tool, not a ranking of the methods.`,
    )
  }
  if (r.missingProfiles > 0) {
    lines.push(`  WARNING: ${r.missingProfiles} evaluated shoppers had no profile (404): scored 0`)
  }
  if (r.failedJobs > 0) {
    lines.push(`  WARNING: ${r.failedJobs} events jobs failed: their events never reached Nudge`)
  }
  lines.push('', ...table(r.rows, k), '', ...verdict(r.rows, k))
  if (r.diagnostics.length > 0) {
    lines.push(
      '',
      `Diagnostics, not part of the comparison. Where each method's hits are: on held-out items the`,
      `shopper had seen (re-visits) or new to them; then Nudge's personal blend`,
      `(workers/domain/personal.ts) recomputed for the same shoppers from the FINAL state, per`,
      `weight variant, topped up with trending as the read API does.`,
      ...splitTable(r.rows, r.diagnostics, r),
    )
    if (r.sharedWithRecomputed !== undefined) {
      lines.push(
        `A served top-${k} shares ${r.sharedWithRecomputed.toFixed(1)} of its items with the default blend recomputed at the end, on average.`,
        `A served list is computed at the shopper's own last event from the sets as they were then, as in`,
        `production; the baselines and the recomputed blends also see every later event of other shoppers.`,
      )
    }
  }
  const total = r.phases.reduce((sum, [, ms]) => sum + ms, 0)
  lines.push(
    '',
    `phases: ${r.phases.map(([name, ms]) => `${name} ${duration(ms)}`).join(' · ')} · total ${duration(total)}`,
  )
  return lines
}

function table(rows: readonly Row[], k: number): string[] {
  const width = Math.max(16, ...rows.map((row) => row.method.length))
  return [
    `| ${'method'.padEnd(width)} | HitRate@${k} | NDCG@${k} | shoppers |`,
    `|${'-'.repeat(width + 2)}|-----------:|--------:|---------:|`,
    ...rows.map(
      ({ method, scores }) =>
        `| ${method.padEnd(width)} | ${fixed(scores.hitRate).padStart(10)} | ${fixed(scores.ndcg).padStart(7)} | ${String(scores.shoppers).padStart(8)} |`,
    ),
  ]
}

function splitTable(rows: readonly Row[], variants: readonly Row[], r: Report): string[] {
  const all = [...rows, ...variants]
  const width = Math.max(16, ...all.map((row) => row.method.length))
  const fresh = r.evaluated - r.revisits
  const revisitHead = `re-visit hits (of ${r.revisits})`
  const freshHead = `new-item hits (of ${fresh})`
  const line = ({ method, scores, hits }: Row) =>
    `| ${method.padEnd(width)} | ${fixed(scores.hitRate).padStart(10)} | ${fixed(scores.ndcg).padStart(7)} | ${String(hits.revisit).padStart(revisitHead.length)} | ${String(hits.fresh).padStart(freshHead.length)} |`
  return [
    `| ${'method'.padEnd(width)} | HitRate@${r.k} | NDCG@${r.k} | ${revisitHead} | ${freshHead} |`,
    `|${'-'.repeat(width + 2)}|-----------:|--------:|${'-'.repeat(revisitHead.length + 1)}:|${'-'.repeat(freshHead.length + 1)}:|`,
    ...all.map(line),
  ]
}

/** Whether the first row beats each of the others on both metrics, and by how much. */
function verdict(rows: readonly Row[], k: number): string[] {
  const [nudge, ...baselines] = rows
  if (!nudge) {
    return []
  }
  const lines = baselines.map(({ method, scores }) => {
    const hit = nudge.scores.hitRate - scores.hitRate
    const ndcg = nudge.scores.ndcg - scores.ndcg
    const shoppers = Math.round(Math.abs(hit) * nudge.scores.shoppers)
    const word = hit > 0 && ndcg > 0 ? 'beats' : hit < 0 && ndcg < 0 ? 'is behind' : 'does not beat'
    return `  ${word} ${method}: HitRate@${k} ${signed(hit)} (${shoppers} shoppers), NDCG@${k} ${signed(ndcg)}`
  })
  const all = baselines.every(
    ({ scores }) => nudge.scores.hitRate > scores.hitRate && nudge.scores.ndcg > scores.ndcg,
  )
  return [`${nudge.method} beats every baseline on both metrics: ${all ? 'YES' : 'NO'}`, ...lines]
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${fixed(Math.abs(x))}`
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
