/** The eval's split, metrics and baselines on hand-made data: pure, no Redis, no api. */
import { describe, expect, it } from 'vitest'
import {
  createItemKnn,
  describeDataset,
  type EvalEvent,
  evaluate,
  hitsByKind,
  itemCounts,
  ndcgAt,
  parseEvents,
  popularity,
  recentItems,
  shiftTime,
  splitLastEvent,
  targetKinds,
} from './eval-recs-score'
import { syntheticCsv } from './eval-recs-synthetic'

let line = 1
function ev(user: string, item: string, ts: number, event: EvalEvent['event'] = 'view'): EvalEvent {
  line += 1
  return { user, item, category: 'c', event, ts, line }
}

describe('splitLastEvent', () => {
  it('holds out the chronologically last event of shoppers with at least three events', () => {
    const events = [
      ev('a', 'x', 30),
      ev('a', 'y', 10),
      ev('a', 'z', 20),
      ev('b', 'x', 5),
      ev('b', 'y', 6),
    ]
    const split = splitLastEvent(events, 3)
    expect([...split.heldOut.keys()]).toEqual(['a'])
    expect(split.heldOut.get('a')?.item).toBe('x')
    expect(split.histories.get('a')?.map((e) => e.item)).toEqual(['y', 'z'])
    // b is too short to evaluate but still counts as training data, and training is by time.
    expect(split.training.map((e) => `${e.user}${e.item}`)).toEqual(['bx', 'by', 'ay', 'az'])
  })

  it('breaks a tie in time by the line: the later line is the newer event', () => {
    const split = splitLastEvent([ev('a', 'p', 7), ev('a', 'q', 7), ev('a', 'r', 7)], 3)
    expect(split.heldOut.get('a')?.item).toBe('r')
  })
})

describe('shiftTime', () => {
  it('moves every event by one offset so the newest lands at the given time', () => {
    const events = [ev('a', 'x', 100), ev('b', 'y', 40), ev('a', 'z', 70)]
    const shifted = shiftTime(events, 1_000)
    expect(shifted.seconds).toBe(900)
    expect(shifted.events.map((e) => e.ts)).toEqual([1_000, 940, 970])
    expect(events[0]?.ts).toBe(100)
    expect(shiftTime([], 1_000)).toEqual({ events: [], seconds: 0 })
  })
})

describe('metrics', () => {
  it('NDCG@k is 1 / log2(rank + 1) for the one relevant item, 0 past k', () => {
    expect(ndcgAt(['t'], 't', 10)).toBe(1)
    expect(ndcgAt(['a', 't'], 't', 10)).toBeCloseTo(1 / Math.log2(3), 12)
    expect(ndcgAt(['a', 'b', 'c', 't'], 't', 3)).toBe(0)
    expect(ndcgAt([], 't', 10)).toBe(0)
  })

  it('averages over every target, a shopper without a list scoring 0', () => {
    const lists = new Map([
      ['u1', ['t1']],
      ['u2', ['x', 'x2', 't2']],
    ])
    const targets = new Map([
      ['u1', 't1'],
      ['u2', 't2'],
      ['u3', 't3'],
    ])
    const scores = evaluate(lists, targets, 10)
    expect(scores.shoppers).toBe(3)
    expect(scores.hitRate).toBeCloseTo(2 / 3, 12)
    expect(scores.ndcg).toBeCloseTo((1 + 1 / Math.log2(4)) / 3, 12)
    expect(hitsByKind(lists, targets, new Set(['u2']), 10)).toEqual({ revisit: 1, fresh: 1 })
    expect(evaluate(lists, targets, 2).hitRate).toBeCloseTo(1 / 3, 12)
  })
})

describe('baselines', () => {
  it('popularity: most training events first, ties by id', () => {
    const counts = itemCounts([ev('a', 'b', 1), ev('b', 'b', 2), ev('c', 'c', 3), ev('d', 'a', 4)])
    expect(popularity(counts, 10)).toEqual(['b', 'a', 'c'])
    expect(popularity(counts, 1)).toEqual(['b'])
    // Later, better items displace earlier ones from a full top-k.
    const rising = itemCounts(
      ['p', 'q', 'q', 'r', 'r', 'r', 's', 's', 's', 's'].map((item) => ev('u', item, 1)),
    )
    expect(popularity(rising, 2)).toEqual(['s', 'r'])
  })

  it('recent items: distinct, newest first', () => {
    const history = [ev('u', 'a', 1), ev('u', 'b', 2), ev('u', 'a', 3), ev('u', 'c', 4)]
    expect(recentItems(history, 10)).toEqual(['c', 'a', 'b'])
    expect(recentItems(history, 2)).toEqual(['c', 'a'])
  })

  it('item-kNN: sums cosine similarity on the binary matrix, never lists own items', () => {
    // p co-occurs with q for two shoppers (cos = 2 / √(3·2)) and with r for one (1 / √(3·1)).
    const training = [
      ev('s1', 'p', 1),
      ev('s1', 'q', 2),
      ev('s2', 'p', 1),
      ev('s2', 'q', 2),
      ev('s2', 'q', 3),
      ev('s3', 'p', 1),
      ev('s3', 'r', 2),
      ev('s4', 'z', 1),
    ]
    const knn = createItemKnn(training)
    expect(knn([ev('me', 'p', 9)], 10)).toEqual(['q', 'r'])
    expect(knn([ev('me', 'p', 9), ev('me', 'q', 10)], 10)).toEqual(['r'])
    // An item nobody else touched has no neighbours: an empty list, not popularity.
    expect(knn([ev('me', 'z', 9)], 10)).toEqual([])
  })
})

describe('dataset description', () => {
  it('counts short shoppers, items seen once, re-visit and known targets', () => {
    const events = [ev('a', 'x', 1), ev('a', 'y', 2), ev('a', 'x', 3), ev('b', 'z', 1)]
    expect(describeDataset(events)).toEqual({
      events: 4,
      shoppers: 2,
      items: 3,
      shortShoppers: 1,
      onceItems: 2 / 3,
    })
    const kinds = targetKinds(splitLastEvent(events, 3))
    expect([...kinds.revisiting]).toEqual(['a'])
    expect(kinds.known).toBe(1)
  })
})

describe('parseEvents', () => {
  it('keeps exactly the rows the import accepts, in any column order', () => {
    const { events, rejected } = parseEvents([
      'ts,event,user_id,item_id,category_id',
      '1714521600,view,u1,sku-1,shoes',
      '1714521601,like,u1,sku-2,shoes',
      '1714521602000,view,u1,sku-3,shoes',
      '',
      '1714521603,BUY,u2,"sku,4",',
    ])
    expect(rejected).toBe(2)
    expect(
      events.map(({ user, item, event, ts, line: at }) => [user, item, event, ts, at]),
    ).toEqual([
      ['u1', 'sku-1', 'view', 1714521600, 2],
      ['u2', 'sku,4', 'buy', 1714521603, 6],
    ])
  })
})

describe('syntheticCsv', () => {
  it('is deterministic per seed, valid for the import, sparse and long-tailed', () => {
    const lines = syntheticCsv({ shoppers: 1000, seed: 7 })
    expect(syntheticCsv({ shoppers: 1000, seed: 7 })).toEqual(lines)
    const { events, rejected } = parseEvents(lines)
    expect(rejected).toBe(0)
    const shape = describeDataset(events)
    expect(shape.shoppers).toBe(1000)
    expect(shape.shortShoppers).toBeGreaterThan(0.8)
    expect(shape.onceItems).toBeGreaterThan(0.4)
  })
})
