/**
 * @module `nudge import`: backfills history through the ingest api over HTTP, so validation,
 * dedup and partitioning are exactly those of live traffic. CSV rows become native events
 * (`POST /v1/events`); JSONL lines are Segment messages (`POST /v1/batch`).
 *
 * Nothing counts twice: every event id is derived from its line's number and content (a JSONL
 * message's own messageId wins), so a resumed, retried or repeated import sends the same ids
 * and the api drops those it has seen within NUDGE_DEDUP_WINDOW. Memory stays bounded: the file
 * is streamed line by line and one batch (≤ 500 events, ≤ 500 KB) is held at a time.
 * Exit codes: 0 done, 1 refused or failed (the checkpoint keeps the place), 2 the command line
 * is wrong, 130 interrupted.
 */
import { stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { INGEST_LIMITS } from '../api/ingest'
import { CheckpointMismatch, loadCheckpoint, saveCheckpoint } from './import-checkpoint'
import {
  csvMapper,
  type ImportFormat,
  jsonlMapper,
  type LineMapper,
  type Made,
  readLines,
  reportedField,
} from './import-lines'
import { type Batch, deliver, SendError, SendInterrupted, type SendOptions } from './import-send'
import { createProgress, formatCount, type ProgressOutput } from './progress'

export type ImportDeps = {
  out: (line: string) => void
  /** Where the progress bar goes (process.stderr). */
  progress: ProgressOutput
  /** Aborted on SIGINT/SIGTERM: the batch in flight is finished and checkpointed first. */
  signal?: AbortSignal
  fetch?: typeof fetch
  /** Waits before a retry (tests record the waits instead of sleeping). */
  wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>
  /** Events per request (default and maximum 500). */
  batchSize?: number
  /** Attempts per request before giving up (default 10). */
  maxAttempts?: number
  /** Called after each acknowledged batch with its number (1, 2, …). */
  onBatch?: (batch: number) => void
}

export const IMPORT_USAGE = `Usage: nudge import <file> --url <api base> --key <key> [options]

Backfills history through the ingest api, which validates and dedups it as live traffic.
CSV: header user_id,item_id,category_id,event,ts; event is view, cart, fav or buy; ts is in
Unix seconds. JSONL: one Segment message per line (as sent to /v1/batch).
Interrupted? Run the same command again: it resumes from the checkpoint and counts nothing twice.

Options:
  --url <url>                 the api, e.g. https://nudge.example.com
  --key <key>                 the site secret (sk_…) or its write key (wk_…)
  --format csv|jsonl          default: from the file name (.csv, .jsonl, .ndjson)
  --checkpoint <file>         default: <file>.nudge-import.json
  --identity user|anonymous   CSV user_id as the proven userId (default with a secret) or as
                              the anonymousId (default with a write key)
  -h, --help                  show this help`

const MAX_EVENTS = INGEST_LIMITS.maxEventsPerRequest
const MAX_BODY = INGEST_LIMITS.maxBodyBytes
/** Rejected lines held for the report before a batch is due anyway (memory stays bounded). */
const MAX_PROBLEMS_HELD = 1000
/** Room for the body's `{"events":[…]}` around the events. */
const BODY_BYTES = MAX_BODY - 64

class UsageError extends Error {}
class ImportError extends Error {}

type Problem = { line: number; field: string; reason: string }

type Options = {
  file: string
  endpoint: string
  key: string
  format: ImportFormat
  checkpoint: string
  identity: 'user' | 'anonymous'
}

/**
 * Runs `nudge import` and returns the exit code. Rejected lines and the summary go to
 * `deps.out`, the bar to `deps.progress`.
 * @example process.exitCode = await runImportCommand(['events.csv', '--url', url, '--key', secret], deps)
 */
export async function runImportCommand(args: string[], deps: ImportDeps): Promise<number> {
  try {
    const options = parseCommandLine(args)
    if (options === undefined) {
      deps.out(IMPORT_USAGE)
      return 0
    }
    return await importFile(options, deps)
  } catch (err) {
    if (err instanceof UsageError) {
      deps.out(`nudge import: ${err.message}\n\n${IMPORT_USAGE}`)
      return 2
    }
    if (err instanceof ImportError || err instanceof CheckpointMismatch) {
      deps.out(`nudge import: ${err.message}`)
      return 1
    }
    throw err
  }
}

function parseCommandLine(args: string[]): Options | undefined {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        format: { type: 'string' },
        checkpoint: { type: 'string' },
        identity: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  const text = (name: string) => {
    const value = values[name]
    return typeof value === 'string' ? value : undefined
  }
  if (values.help === true) {
    return undefined
  }
  const [file, ...extra] = positionals
  if (file === undefined || extra.length > 0) {
    throw new UsageError(`expected one file, got ${positionals.length}`)
  }
  const url = text('url')
  const key = text('key')
  if (url === undefined || key === undefined || key === '') {
    throw new UsageError('--url and --key are required')
  }
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    throw new UsageError(`--url expects an http(s) URL such as http://127.0.0.1:3000, got "${url}"`)
  }
  const byName = /\.csv$/i.test(file)
    ? 'csv'
    : /\.(jsonl|ndjson)$/i.test(file)
      ? 'jsonl'
      : undefined
  const format = text('format') ?? byName
  if (format !== 'csv' && format !== 'jsonl') {
    throw new UsageError(
      format === undefined
        ? `cannot tell the format of "${file}" from its name; pass --format csv or --format jsonl`
        : `--format expects csv or jsonl, got "${format}"`,
    )
  }
  const identity = text('identity') ?? (key.startsWith('sk_') ? 'user' : 'anonymous')
  if (identity !== 'user' && identity !== 'anonymous') {
    throw new UsageError(`--identity expects user or anonymous, got "${identity}"`)
  }
  const base = url.replace(/\/+$/, '')
  return {
    file,
    endpoint: `${base}${format === 'csv' ? '/v1/events' : '/v1/batch'}`,
    key,
    format,
    checkpoint: text('checkpoint') ?? `${file}.nudge-import.json`,
    identity,
  }
}

async function importFile(options: Options, deps: ImportDeps): Promise<number> {
  const { out } = deps
  let size: number
  try {
    size = (await stat(options.file)).size
  } catch (err) {
    throw new ImportError(`cannot read ${options.file}: ${(err as Error).message}`)
  }
  const checkpoint = await loadCheckpoint({
    path: options.checkpoint,
    file: options.file,
    size,
    format: options.format,
    endpoint: options.endpoint,
    key: options.key,
  })
  if (checkpoint.done && checkpoint.offset === size) {
    out(
      `${options.file} is already imported (checkpoint ${options.checkpoint}); delete the checkpoint to send it again.`,
    )
    return 0
  }
  const map = await mapperOf(options)
  const limit = Math.min(deps.batchSize ?? MAX_EVENTS, MAX_EVENTS)
  const send: SendOptions = {
    endpoint: options.endpoint,
    key: options.key,
    fetch: deps.fetch,
    wait: deps.wait,
    maxAttempts: deps.maxAttempts,
    signal: deps.signal,
  }
  const progress = createProgress({
    out: deps.progress,
    total: size,
    startDone: checkpoint.offset,
    countUnit: 'events',
  })
  const { counts } = checkpoint
  let saved = { offset: checkpoint.offset, line: checkpoint.line }
  let place = saved
  let sent = 0
  let batches = 0
  let batch: Batch = { events: [], lines: [], bytes: 0 }
  // Rejected lines wait for their batch, so the report comes in line order and counts each once.
  let problems: Problem[] = []

  /** Sends the batch, reports its rejected lines, then saves the place it reached. */
  const flush = async (done: boolean) => {
    if (batch.events.length > 0) {
      const answer = await deliver(batch, send)
      counts.accepted += answer.accepted
      counts.duplicates += answer.duplicates
      for (const { index, issues } of answer.rejected) {
        const line = batch.lines[index] ?? 0
        for (const { field, reason } of issues) {
          problems.push({ line, field: reportedField(options.format, field), reason })
        }
      }
      sent += batch.events.length
      batch = { events: [], lines: [], bytes: 0 }
    }
    problems.sort((a, b) => a.line - b.line)
    counts.rejected += new Set(problems.map((p) => p.line)).size
    progress.above(() => {
      for (const { line, field, reason } of problems) {
        out(`line ${line}: ${field}: ${reason}`)
      }
    })
    problems = []
    await saveCheckpoint(options.checkpoint, { ...checkpoint, ...place, counts, done })
    saved = place
    progress.update(place.offset, sent)
    batches++
    deps.onBatch?.(batches)
  }

  try {
    let line = checkpoint.line
    for await (const read of readLines(options.file, checkpoint.offset)) {
      line++
      const made = read.tooLong
        ? reject(`longer than ${MAX_BODY} bytes`)
        : (options.format === 'csv' && line === 1) || read.text.trim() === ''
          ? undefined
          : map(line, read.text)
      const json = made?.ok ? JSON.stringify(made.event) : ''
      const bytes = Buffer.byteLength(json) + 1
      const fits = made?.ok !== true || bytes <= BODY_BYTES
      const checked = fits ? made : reject(`${bytes} bytes; one request carries ${MAX_BODY}`)
      const full = batch.events.length >= limit || batch.bytes + bytes > BODY_BYTES
      if ((checked?.ok && full) || problems.length >= MAX_PROBLEMS_HELD) {
        await flush(false)
        if (deps.signal?.aborted) {
          throw new SendInterrupted('interrupted')
        }
      }
      if (checked?.ok === false) {
        problems.push({ line, field: checked.field, reason: checked.reason })
      } else if (checked?.ok) {
        batch.events.push(json)
        batch.lines.push(line)
        batch.bytes += bytes
      }
      place = { offset: read.end, line }
    }
    await flush(true)
  } catch (err) {
    progress.finish()
    const where = `Lines up to ${saved.line} are in; run the same command again to resume (checkpoint ${options.checkpoint}).`
    if (err instanceof SendInterrupted) {
      out(`Interrupted. ${where}`)
      return 130
    }
    if (err instanceof SendError) {
      out(`nudge import: ${err.message}\n${where}`)
      return 1
    }
    throw err
  }
  progress.finish()
  const stored = counts.accepted + counts.duplicates
  out(
    `Imported ${options.file}: ${formatCount(stored)} events stored (${formatCount(counts.accepted)} new, ${formatCount(counts.duplicates)} already there), ${formatCount(counts.rejected)} lines rejected.`,
  )
  return 0
}

function reject(reason: string): Made {
  return { ok: false, field: '(line)', reason }
}

async function mapperOf(options: Options): Promise<LineMapper> {
  if (options.format === 'jsonl') {
    return jsonlMapper
  }
  const header = await readLines(options.file, 0).next()
  const mapper = csvMapper(header.done ? '' : header.value.text, options.identity)
  if (typeof mapper === 'string') {
    throw new ImportError(`${options.file}: ${mapper}`)
  }
  return mapper
}
