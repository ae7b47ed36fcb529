import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  csvEvent,
  csvMapper,
  importId,
  jsonlMapper,
  type Line,
  parseCsvLine,
  readLines,
  reportedField,
} from './import-lines'
import { retryDelay } from './import-send'

describe('parseCsvLine', () => {
  it('splits plain and quoted fields', () => {
    expect(parseCsvLine('u1,i1,,view,1700000000')).toEqual(['u1', 'i1', '', 'view', '1700000000'])
    expect(parseCsvLine('"u,1","say ""hi""", x ')).toEqual(['u,1', 'say "hi"', 'x'])
    expect(parseCsvLine('')).toEqual([''])
    expect(parseCsvLine('a,')).toEqual(['a', ''])
  })

  it('refuses an unclosed quote or text after a closing quote', () => {
    expect(parseCsvLine('u1,"i1,view')).toBeUndefined()
    expect(parseCsvLine('"u1"x,i1')).toBeUndefined()
  })
})

describe('csvEvent', () => {
  const row = {
    user_id: 'u1',
    item_id: 'sku-1',
    category_id: 'Shoes',
    event: 'view',
    ts: '1700000000',
  }

  it('maps each event kind onto a native event with that one product', () => {
    expect(csvEvent(row, 'imp-1', 'user')).toEqual({
      ok: true,
      event: {
        id: 'imp-1',
        type: 'ProductViewed',
        v: 1,
        userId: 'u1',
        ts: 1_700_000_000_000,
        props: { productId: 'sku-1', category: 'Shoes' },
      },
    })
    const types = ['cart', 'fav', 'buy'].map((event) => {
      const made = csvEvent({ ...row, event }, 'imp-2', 'anonymous')
      return made.ok ? [made.event.type, made.event.anonymousId, made.event.props] : made
    })
    expect(types).toEqual([
      ['AddedToCart', 'u1', { productId: 'sku-1', category: 'Shoes' }],
      [
        'Custom',
        'u1',
        { name: 'Favorited', properties: { productId: 'sku-1', category: 'Shoes' } },
      ],
      [
        'OrderCompleted',
        'u1',
        { orderId: 'imp-2', products: [{ productId: 'sku-1', category: 'Shoes', quantity: 1 }] },
      ],
    ])
    const bare = csvEvent({ ...row, category_id: '' }, 'imp-3', 'user')
    expect(bare.ok && bare.event.props).toEqual({ productId: 'sku-1' })
  })

  it('names the column and the reason of a bad row', () => {
    expect(csvEvent({ ...row, user_id: '' }, 'x', 'user')).toEqual({
      ok: false,
      field: 'user_id',
      reason: 'required',
    })
    expect(csvEvent({ ...row, event: 'like' }, 'x', 'user')).toMatchObject({ field: 'event' })
    expect(csvEvent({ ...row, ts: 'yesterday' }, 'x', 'user')).toMatchObject({ field: 'ts' })
    expect(csvEvent({ ...row, ts: '1700000000000' }, 'x', 'user')).toMatchObject({
      reason: expect.stringMatching(/milliseconds\? ts is in seconds/),
    })
  })
})

describe('csvMapper', () => {
  it('reads columns in any order, ignores extras, and checks the field count', () => {
    const map = csvMapper('ts,event,extra,category_id,item_id,user_id', 'user')
    expect(typeof map).toBe('function')
    if (typeof map === 'function') {
      const made = map(2, '1700000000,buy,?,c,i,u')
      expect(made.ok && made.event).toMatchObject({ type: 'OrderCompleted', userId: 'u' })
      expect(made.ok && made.event.id).toBe(importId(2, '1700000000,buy,?,c,i,u'))
      expect(map(3, 'a,b')).toMatchObject({ reason: 'expected 6 fields as in the header, got 2' })
    }
    expect(csvMapper('user_id,item_id', 'user')).toBe(
      'the CSV header lacks category_id, event, ts; expected user_id,item_id,category_id,event,ts',
    )
  })
})

describe('importId', () => {
  it('depends on the line number and content only', () => {
    expect(importId(5, 'a,b')).toBe(importId(5, 'a,b'))
    expect(importId(5, 'a,b')).not.toBe(importId(6, 'a,b'))
    expect(importId(5, 'a,b')).toMatch(/^imp-[0-9a-f]{32}$/)
  })
})

describe('jsonlMapper', () => {
  it('keeps a messageId and derives one from the line otherwise', () => {
    expect(jsonlMapper(1, '{"type":"track","messageId":"m-1"}')).toEqual({
      ok: true,
      event: { type: 'track', messageId: 'm-1' },
    })
    const made = jsonlMapper(2, '{"type":"track"}')
    expect(made.ok && made.event.messageId).toBe(importId(2, '{"type":"track"}'))
    expect(jsonlMapper(3, '[1]')).toMatchObject({ ok: false, field: '(line)' })
    expect(jsonlMapper(4, '{')).toMatchObject({ reason: expect.stringMatching(/^not JSON/) })
  })
})

describe('reportedField', () => {
  it('names CSV columns and strips the batch index', () => {
    expect(reportedField('csv', 'events[3].props.productId')).toBe('item_id')
    expect(reportedField('csv', 'events[3].props.products[0].category')).toBe('category_id')
    expect(reportedField('csv', 'events[0].userId')).toBe('user_id')
    expect(reportedField('csv', 'events[0]')).toBe('(line)')
    expect(reportedField('jsonl', 'batch[7].props.price')).toBe('props.price')
  })
})

describe('readLines', () => {
  async function linesOf(content: string | Buffer, start = 0, max?: number): Promise<Line[]> {
    const dir = await mkdtemp(join(tmpdir(), 'nudge-lines-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'f')
    await writeFile(file, content)
    const lines: Line[] = []
    for await (const line of readLines(file, start, max)) {
      lines.push(line)
    }
    return lines
  }

  it('gives each line with the offset past it, without BOM or CR, last line unterminated', async () => {
    expect(await linesOf('\uFEFFa,b\r\nc\n\nd')).toEqual([
      { text: 'a,b', end: 8, tooLong: false },
      { text: 'c', end: 10, tooLong: false },
      { text: '', end: 11, tooLong: false },
      { text: 'd', end: 12, tooLong: false },
    ])
    expect(await linesOf('a,b\nc\n', 4)).toEqual([{ text: 'c', end: 6, tooLong: false }])
  })

  it('keeps multi-byte characters split across chunks whole', async () => {
    const long = 'é'.repeat(70_000)
    const [line] = await linesOf(`${long}\nx\n`)
    expect(line?.text).toBe(long)
  })

  it('drops the text of a line over the limit but keeps counting', async () => {
    expect(await linesOf('short\nthis is too long\nok\n', 0, 10)).toEqual([
      { text: 'short', end: 6, tooLong: false },
      { text: '', end: 23, tooLong: true },
      { text: 'ok', end: 26, tooLong: false },
    ])
  })
})

describe('retryDelay', () => {
  it('honours Retry-After in seconds or as a date, else backs off, capped at a minute', () => {
    expect(retryDelay('2', 1)).toBe(2000)
    expect(retryDelay('600', 1)).toBe(60_000)
    expect(retryDelay(null, 1)).toBe(500)
    expect(retryDelay(null, 4)).toBe(4000)
    expect(retryDelay(null, 20)).toBe(60_000)
    const date = new Date(Date.now() + 3000).toUTCString()
    expect(retryDelay(date, 1)).toBeGreaterThan(1000)
    expect(retryDelay(date, 1)).toBeLessThanOrEqual(3000)
  })
})
