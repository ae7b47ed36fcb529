/**
 * @module The pipeline bench's traffic: OTTO-derived events (bench/otto.ts; CC BY 4.0,
 * © OTTO (GmbH & Co KG), see data/README.md) in their stored form, spread over many
 * shoppers. The OTTO sample holds 20 sessions; replayed as they are, every event would land on
 * the same 20 profiles, whose state (applied markers, recent lists) would grow far past what a
 * real shopper's does. So each request is one slice of one session sent by one of many shoppers
 * that replay that session: `otto-<session>-<k>`, k cycling over `shoppers / sessions` values.
 *
 * Each request is what the api writes for one POST of one browser: `eventsPerRequest` events of
 * one shopper, hence one partition, hence one log entry and one pump job. The JSON of every
 * event is built once as a template with three slots (event id tag, shopper suffix,
 * receivedAt), so a send only concatenates strings.
 */

import { partitionOf, profileKey } from '../streams/partition'
import type { PreparedEvent } from '../streams/produce'
import { buildBatches, fill, loadSample, storedTemplates } from './otto'

/** The site every bench event belongs to (the workers need no site row to process events). */
export const BENCH_SITE = 'sit_bench'

/** receivedAt as storedTemplates writes it, replaced by a slot; never a real time here. */
const RECEIVED_SENTINEL = 4_102_444_799_999

type Slot = 'id' | 'shopper' | 'receivedAt'
const SLOT_CHARS: Record<string, Slot> = {
  '\u0001': 'id',
  '\u0002': 'shopper',
  '\u0003': 'receivedAt',
}

/** One event's JSON as fixed parts with a slot between each two. */
type EventTemplate = { idParts: string[]; parts: string[]; slots: Slot[] }

/** One slice of one session: its events' templates and the session's anonymousId stem. */
type SliceTemplate = { stem: string; events: EventTemplate[] }

/** One request's worth of events, ready for appendEvents (log) or one job each (naive). */
export type Request = { partition: number; events: PreparedEvent[] }

export type Traffic = {
  /** Events per request (all of one shopper). */
  eventsPerRequest: number
  /** Distinct shoppers the traffic cycles through. */
  shoppers: number
  /** The next request, stamped with `receivedAt`. */
  next(receivedAt: number): Request
}

function compile(text: string): { parts: string[]; slots: Slot[] } {
  const parts: string[] = []
  const slots: Slot[] = []
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const slot = SLOT_CHARS[text[i] ?? '']
    if (slot) {
      parts.push(text.slice(from, i))
      slots.push(slot)
      from = i + 1
    }
  }
  parts.push(text.slice(from))
  return { parts, slots }
}

/**
 * @example const traffic = createTraffic({ eventsPerRequest: 20, shoppers: 10_000, partitions: 8, tag: 'a1' })
 */
export function createTraffic(opts: {
  eventsPerRequest: number
  shoppers: number
  partitions: number
  /** Unique per process and run, so every event id is new (ingest deduplicates by id). */
  tag: string
}): Traffic {
  const sessions = loadSample()
  const batches = buildBatches(sessions, opts.eventsPerRequest, Date.now())
  const slices: SliceTemplate[] = batches.map((batch) => {
    const stem = String(batch[0]?.anonymousId ?? 'otto-0')
    const events = storedTemplates([batch], BENCH_SITE, opts.partitions, RECEIVED_SENTINEL).map(
      (stored) => {
        // The OTTO builder marks only the id; the shopper and receivedAt get slots of their own.
        const text = fill(stored.json, '\u0001')
          .replace(`"anonymousId":"${stem}"`, `"anonymousId":"${stem}-\u0002"`)
          .replace(`"receivedAt":${RECEIVED_SENTINEL}`, '"receivedAt":\u0003')
        return { idParts: stored.id.parts, ...compile(text) }
      },
    )
    return { stem, events }
  })
  const cycles = Math.max(1, Math.round(opts.shoppers / sessions.length))
  const partitionCache = new Map<string, number>()
  const partitionOfShopper = (anonymousId: string) => {
    let p = partitionCache.get(anonymousId)
    if (p === undefined) {
      p = partitionOf(profileKey(BENCH_SITE, { anonymousId, verified: false }), opts.partitions)
      partitionCache.set(anonymousId, p)
    }
    return p
  }
  let sequence = 0
  return {
    eventsPerRequest: opts.eventsPerRequest,
    shoppers: cycles * sessions.length,
    next(receivedAt) {
      const slice = slices[sequence % slices.length] as SliceTemplate
      const shopper = String(Math.floor(sequence / slices.length) % cycles)
      const tag = `${opts.tag}.${sequence.toString(36)}`
      sequence += 1
      const at = String(receivedAt)
      const values: Record<Slot, string> = { id: tag, shopper, receivedAt: at }
      const events = slice.events.map((event): PreparedEvent => {
        let json = event.parts[0] ?? ''
        for (let i = 0; i < event.slots.length; i++) {
          json += values[event.slots[i] as Slot] + (event.parts[i + 1] ?? '')
        }
        return { id: event.idParts.join(tag), partition: 0, json }
      })
      const partition = partitionOfShopper(`${slice.stem}-${shopper}`)
      for (const event of events) {
        event.partition = partition
      }
      return { partition, events }
    },
  }
}
