/**
 * @module `npm run eval:recs -- <file.csv>`: how good Nudge's personal recommendations are on a
 * dataset, measured through the real pipeline (import → api → pump → workers → read API) next
 * to three baselines computed in the same run from the same training events.
 *
 * Each shopper with ≥ 3 events has their chronologically last event held out; the held-out
 * events are never imported. The training events are imported oldest first, as a backfill of
 * the store's history would be, so each shopper's list is what the workers computed at their
 * last event. Every timestamp is moved by one offset so the newest event is a minute old:
 * the workers decay trending against the clock every ten minutes, and would otherwise prune
 * a years-old dataset's trending sets in the middle of a long run. Then for each evaluated shopper the read API is asked for
 * `kind=personal&profile=u:<user_id>&limit=10` and HitRate@10 / NDCG@10 are taken against the
 * held-out item. The dataset is held in memory (it is an evaluation, not a backfill).
 *
 * `--synthetic <shoppers>` evaluates generated traffic instead (eval-recs-synthetic.ts), and
 * every line of that report says SYNTHETIC. Everything the run makes (keys under
 * `eval:<random>:`, a PostgreSQL schema or PGlite directory, a temporary directory) is removed
 * at the end, also on Ctrl-C or when `--timeout` runs out.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { blendVariants, recomputeBlends } from './eval-recs-blend'
import { type EvalPipeline, startEvalPipeline } from './eval-recs-pipeline'
import { formatReport, type Report, type Row } from './eval-recs-report'
import {
  createItemKnn,
  describeDataset,
  evaluate,
  hitsByKind,
  itemCounts,
  parseEvents,
  popularity,
  recentItems,
  shiftTime,
  splitLastEvent,
  targetKinds,
  trainingCsv,
} from './eval-recs-score'
import { syntheticCsv } from './eval-recs-synthetic'

const USAGE = `Usage: npm run eval:recs -- <file.csv> [options]
       npm run eval:recs -- --synthetic <shoppers> [--seed n] [options]

Loads the CSV (user_id,item_id,category_id,event,ts) through the real pipeline with each
shopper's last event held out, and prints HitRate@10 and NDCG@10 of Nudge's personal
recommendations next to popularity, recent items and item-kNN.
Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/test; an embedded PGlite when it is not there), loopback only.

Options:
  --min-events <n>     shoppers with at least n events are evaluated (default 3)
  --timeout <s>        the whole run, cleanup excepted (default 900)
  --no-diagnostics     skip recomputing the blend variants from the final state
  --keep-time          import the file's timestamps as they are; by default every event is
                       moved by one offset so the newest is a minute old (gaps unchanged),
                       because trending decays against the clock every 10 minutes
  --synthetic <n>      n generated shoppers instead of a file; labelled SYNTHETIC
  --seed <n>           seed of the synthetic traffic (default 1)`

/** The cut-off every figure is at: the read API's default list length. */
const K = 10
/** Read API requests in flight while collecting the lists. */
const CONCURRENCY = 16

type Args = {
  file?: string
  synthetic?: number
  seed: number
  minEvents: number
  timeoutMs: number
  diagnostics: boolean
  keepTime: boolean
}

function parseCommandLine(argv: string[]): Args | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'min-events': { type: 'string', default: '3' },
      timeout: { type: 'string', default: '900' },
      'no-diagnostics': { type: 'boolean', default: false },
      'keep-time': { type: 'boolean', default: false },
      synthetic: { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true) {
    return undefined
  }
  const whole = (name: string, text: string | undefined, min: number): number => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < min) {
      throw new Error(`--${name} expects a whole number ≥ ${min}, got "${text}"`)
    }
    return n
  }
  const synthetic =
    values.synthetic === undefined ? undefined : whole('synthetic', values.synthetic, 10)
  if ((positionals.length === 1) === (synthetic !== undefined) || positionals.length > 1) {
    throw new Error('give one CSV file, or --synthetic <shoppers>')
  }
  return {
    file: positionals[0],
    synthetic,
    seed: whole('seed', values.seed, 0),
    minEvents: whole('min-events', values['min-events'], 2),
    timeoutMs: whole('timeout', values.timeout, 10) * 1000,
    diagnostics: !values['no-diagnostics'],
    keepTime: values['keep-time'] === true,
  }
}

/** Runs `work` over `inputs` with at most `limit` in flight. */
async function pooled<T, R>(inputs: readonly T[], limit: number, work: (x: T) => Promise<R>) {
  const out: R[] = new Array(inputs.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, inputs.length) }, async () => {
    while (next < inputs.length) {
      const i = next++
      out[i] = await work(inputs[i] as T)
    }
  })
  await Promise.all(lanes)
  return out
}

async function main(argv: string[]): Promise<number> {
  let args: Args | undefined
  try {
    args = parseCommandLine(argv)
  } catch (err) {
    process.stderr.write(`eval:recs: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (args === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const note = (line: string) => process.stderr.write(`${line}\n`)
  const abort = new AbortController()
  const timer = setTimeout(
    () => abort.abort(new Error(`the --timeout of ${args.timeoutMs / 1000} s ran out`)),
    args.timeoutMs,
  )
  // npm, tsx and the terminal may each deliver the same Ctrl-C: the first one stops the run,
  // later ones must not cut the cleanup short (it is bounded by closeAll's own timer).
  const onSignal = () => {
    if (!abort.signal.aborted) {
      note('eval:recs: stopping and cleaning up (at most 30 s)…')
    }
    abort.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const phases: [string, number][] = []
  // performance.now() counts from process start: the first phase is tsx and module loading.
  let mark = 0
  const phase = (name: string) => {
    const now = performance.now()
    phases.push([name, now - mark])
    mark = now
  }

  phase('start-up (tsx, modules)')
  const lines = args.file
    ? (await readFile(args.file, 'utf8')).split('\n')
    : syntheticCsv({ shoppers: args.synthetic ?? 0, seed: args.seed })
  const dataset = args.file
    ? `${args.file} (as given)`
    : `SYNTHETIC — ${args.synthetic} made-up shoppers from bench/eval-recs-synthetic.ts, seed ${args.seed}; NOT real traffic`
  const parsed = parseEvents(lines)
  if (parsed.rejected > 0) {
    note(`eval:recs: ${parsed.rejected} lines the import would reject are left out`)
  }
  const shifted = args.keepTime
    ? { events: parsed.events, seconds: 0 }
    : shiftTime(parsed.events, Math.floor(Date.now() / 1000) - 60)
  const { events } = shifted
  const split = splitLastEvent(events, args.minEvents)
  const users = [...split.heldOut.keys()]
  const targets = new Map([...split.heldOut].map(([user, e]) => [user, e.item]))
  const dir = await mkdtemp(join(tmpdir(), 'nudge-eval-'))
  const trainingFile = join(dir, 'training.csv')
  await writeFile(trainingFile, trainingCsv(split.training))
  phase('read + split')

  let pipeline: EvalPipeline | undefined
  try {
    const running = await startEvalPipeline({
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      signal: abort.signal,
      note,
    })
    pipeline = running
    phase('start (schema, site, api, workers)')
    const importSummary = await running.importCsv(trainingFile, join(dir, 'training.checkpoint'))
    phase('import')
    const remaining = Math.max(1_000, args.timeoutMs - phases.reduce((s, [, ms]) => s + ms, 0))
    const { failedJobs } = await running.drain(remaining)
    phase('drain')

    const served = await pooled(users, CONCURRENCY, (user) => running.personal(user, K))
    const nudgeLists = new Map(users.map((user, i) => [user, served[i] ?? []]))
    const missingProfiles = served.filter((list) => list === undefined).length
    phase('Nudge queries')

    const { known, revisiting } = targetKinds(split)
    const score = (method: string, lists: ReadonlyMap<string, readonly string[]>): Row => ({
      method,
      scores: evaluate(lists, targets, K),
      hits: hitsByKind(lists, targets, revisiting, K),
    })
    const popular = popularity(itemCounts(split.training), K)
    const knn = createItemKnn(split.training)
    const historyOf = (user: string) => split.histories.get(user) ?? []
    const each = (list: (user: string) => readonly string[]) =>
      new Map(users.map((user) => [user, list(user)]))
    const rows: Row[] = [
      score('Nudge personal', nudgeLists),
      score(
        'popularity',
        each(() => popular),
      ),
      score(
        'recent items',
        each((user) => recentItems(historyOf(user), K)),
      ),
      score(
        'item-kNN',
        each((user) => knn(historyOf(user), K)),
      ),
    ]
    phase('baselines')

    const diagnostics: Row[] = []
    let sharedWithRecomputed: number | undefined
    if (args.diagnostics) {
      const variants = blendVariants()
      const recomputed = await recomputeBlends(
        running.redis,
        running.keys,
        running.siteId,
        users,
        variants,
        K,
      )
      for (const variant of variants) {
        diagnostics.push(
          score(`blend recomputed: ${variant.name}`, recomputed.get(variant.name) ?? new Map()),
        )
      }
      const defaults = recomputed.get(variants[0]?.name ?? '') ?? new Map<string, string[]>()
      // Overlap, not equality: near-tied scores swap places between the two computations.
      let shared = 0
      for (const user of users) {
        const again = new Set(defaults.get(user) ?? [])
        shared += (nudgeLists.get(user) ?? []).filter((item) => again.has(item)).length
      }
      sharedWithRecomputed = users.length === 0 ? 0 : shared / users.length
      phase('diagnostics')
    }

    const report: Omit<Report, 'phases'> = {
      dataset,
      shape: describeDataset(events),
      k: K,
      minEvents: args.minEvents,
      evaluated: users.length,
      trainingEvents: split.training.length,
      heldOutEvents: split.heldOut.size,
      revisits: revisiting.size,
      known,
      importSummary,
      shiftSeconds: shifted.seconds,
      database: running.database,
      prefix: running.prefix,
      missingProfiles,
      failedJobs,
      rows,
      diagnostics,
      sharedWithRecomputed,
    }
    pipeline = undefined
    await closeAll(running, dir)
    phase('cleanup')
    process.stdout.write(`${formatReport({ ...report, phases }).join('\n')}\n`)
    return 0
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (abort.signal.aborted) {
      const reason = abort.signal.reason instanceof Error ? abort.signal.reason.message : 'stopped'
      note(`eval:recs: stopped (${reason}) after ${phases.at(-1)?.[0] ?? 'start'}: ${message}`)
      return reason === 'interrupted' ? 130 : 1
    }
    note(`eval:recs: failed: ${err instanceof Error ? (err.stack ?? message) : message}`)
    return 1
  } finally {
    clearTimeout(timer)
    if (pipeline) {
      await closeAll(pipeline, dir)
    } else {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Cleanup is bounded too: a step that hangs must not keep the process (and its keys) forever. */
async function closeAll(pipeline: EvalPipeline, dir: string): Promise<void> {
  const hung = setTimeout(() => {
    process.stderr.write(`eval:recs: cleanup hung; keys under ${pipeline.prefix} may be left\n`)
    process.exit(1)
  }, 30_000)
  try {
    await pipeline.close()
    await rm(dir, { recursive: true, force: true })
  } finally {
    clearTimeout(hung)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2))
  // BullMQ and pg may leave timers behind after close; the run is over.
  process.exit()
}
