/**
 * @module What bench:gateway's processes share: the static site, the offer they push, and the
 * lines they print (one JSON object a line on stdout; commands arrive over IPC).
 */
import { newId } from '../runtime/ids'
import type { Offer } from '../streams/offers'

/** The site every bench token names; the bench gateway's lookup knows only this one. */
export const BENCH_SITE = 'sit_bench'

/** The Socket.IO event name offers are emitted under. */
export const SOCKETIO_EVENT = 'offer'

/** The profile (and Socket.IO room) of bench client number i. */
export const profileOf = (i: number) => `${BENCH_SITE}:a:bench-${i}`

/** A typical offer (~600 bytes of JSON), decided now. */
export function benchOffer(now = Date.now()): Offer {
  return {
    id: newId('offer', now),
    ruleId: 'rul_bench',
    ruleVersion: 1,
    title: '10% off running shoes',
    body: 'You looked at running shoes twice today. Here is ten percent off any pair, today only.',
    cta: { label: 'Shop running shoes', url: 'https://shop.example/c/running-shoes' },
    code: 'RUN10',
    products: [
      {
        id: 'sku-1',
        name: 'Trail runner',
        category: 'Shoes',
        price: 89.9,
        url: 'https://shop.example/p/sku-1',
        imageUrl: 'https://shop.example/img/sku-1.jpg',
      },
      {
        id: 'sku-2',
        name: 'Road runner',
        category: 'Shoes',
        price: 99.9,
        url: 'https://shop.example/p/sku-2',
        imageUrl: 'https://shop.example/img/sku-2.jpg',
      },
    ],
    decidedAt: now,
    expiresAt: now + 3_600_000,
  }
}

export type ClientLine =
  | { event: 'connected'; count: number; failed: number }
  | { event: 'count'; received: number; lastAt: number }
  | {
      event: 'report'
      received: number
      samples: number[]
      closed: number
      /** Epoch ms of the last offer received since the reset (0 when none). */
      lastAt: number
    }

export type PublisherLine =
  | { event: 'ready' }
  | { event: 'ran'; sent: number; seconds: number; cpuMs: number }
