/**
 * @module Ceiling (a): the naive way to log events, as its own process. The same OTTO-derived
 * events, already in their stored form and serialised, are written straight to the partition
 * streams with one `XADD` per event over pipelined ioredis: no HTTP, no validation, no dedup.
 * What the api reaches relative to this says what HTTP + validation + the append script cost
 * against the cheapest possible producer in Node. Prints protocol lines (protocol.ts) and
 * deletes its keys before exiting.
 *
 * Usage: node --import tsx bench/xadd.ts --prefix bench:abcd: [--pipeline 100] [--inflight 4]
 *   [--partitions 8] [--warmup 3] [--duration 10]
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { createKeys } from '../streams/keys'
import { latencyOf } from './measure'
import { buildBatches, fill, loadSample, storedTemplates } from './otto'
import { deleteKeys, emit, type LoadResult, sleep, whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    pipeline: { type: 'string', default: '100' },
    inflight: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
  },
})

const prefix = values.prefix ?? `bench:xadd${process.pid}:`
const pipelineSize = Number(values.pipeline)
const inflight = Number(values.inflight)
const partitions = Number(values.partitions)
const keys = createKeys(prefix)
const streams = Array.from({ length: partitions }, (_, p) => keys.events(p))
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  connectionName: 'nudge-bench-xadd',
})
const events = storedTemplates(
  buildBatches(loadSample(), 20, Date.now()),
  'sit_bench',
  partitions,
  Date.now(),
)
const tagBase = `${process.pid.toString(36)}.`

let sequence = 0
let measuring = false
let stopping = false
const stats = {
  pipelines: 0,
  events: 0,
  errors: {} as Record<string, number>,
  samples: [] as number[],
}

async function writeOnePipeline(): Promise<void> {
  const pipeline = redis.pipeline()
  for (let i = 0; i < pipelineSize; i++) {
    const event = events[sequence % events.length]
    sequence += 1
    if (event) {
      const tag = tagBase + sequence.toString(36)
      pipeline.xadd(
        streams[event.partition] ?? keys.events(0),
        '*',
        fill(event.id, tag),
        fill(event.json, tag),
      )
    }
  }
  const started = performance.now()
  let failure: string | undefined
  try {
    const replies = await pipeline.exec()
    const failed = replies?.find(([err]) => err !== null)
    if (!replies || failed) {
      failure = failed?.[0]?.message.split(' ')[0] ?? 'aborted'
    }
  } catch (err) {
    failure = (err as NodeJS.ErrnoException).code ?? 'error'
  }
  if (!measuring) {
    return
  }
  if (failure !== undefined) {
    stats.errors[failure] = (stats.errors[failure] ?? 0) + 1
    return
  }
  stats.pipelines += 1
  stats.events += pipelineSize
  stats.samples.push(performance.now() - started)
}

async function loop(): Promise<void> {
  while (!stopping) {
    await writeOnePipeline()
  }
}

async function main(): Promise<void> {
  whenParentGone(() => {
    stopping = true
    void deleteKeys(redis, prefix).finally(() => process.exit(0))
  })
  for (let i = 0; i < inflight; i++) {
    void loop()
  }
  await sleep(Number(values.warmup) * 1000)
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  measuring = true
  emit({ event: 'start' })
  await sleep(Number(values.duration) * 1000)
  measuring = false
  stopping = true
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  emit({ event: 'end' })
  const result: LoadResult = {
    event: 'result',
    seconds,
    requests: stats.pipelines,
    events: stats.events,
    duplicates: 0,
    rejected: 0,
    errors: stats.errors,
    eventsPerSecond: stats.events / seconds,
    requestsPerSecond: stats.pipelines / seconds,
    latencyMs: latencyOf(stats.samples),
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
  emit(result)
  // Pipelines still in flight land before the keys go, so nothing is left behind.
  await sleep(200)
  await deleteKeys(redis, prefix)
  redis.disconnect()
  process.exit(0)
}

main().catch((err: unknown) => {
  process.stderr.write(`xadd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
