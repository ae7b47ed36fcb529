import { readFile } from 'node:fs/promises'
import { sql } from 'drizzle-orm'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dropSchema, TEST_DATABASE_URL, testDb, testPglite, uniqueSchema } from '../test/db'
import { createDb, type Db, runMigrations } from './client'
import {
  countSites,
  createSite,
  ensureDemoSite,
  findSiteBySecret,
  findSiteByWriteKey,
} from './queries/sites'

const journal = JSON.parse(
  await readFile(new URL('./migrations/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: unknown[] }

async function appliedMigrations(db: Db, schema: string): Promise<number> {
  const result = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from ${sql.identifier(schema)}.__drizzle_migrations`,
  )
  return result.rows[0]?.n ?? -1
}

async function tableSchema(db: Db, table: string): Promise<string | undefined> {
  const result = await db.execute<{ schema: string }>(
    sql`select table_schema as schema from information_schema.tables where table_name = ${table} order by table_schema`,
  )
  return result.rows.map((r) => r.schema).join(',') || undefined
}

describe('createDb on postgres', () => {
  it('migrates into the given schema and keeps the bookkeeping there too', async () => {
    const { db, schema, handle } = await testDb()
    expect(handle.kind).toBe('postgres')
    expect(journal.entries.length).toBeGreaterThan(0)
    expect(await appliedMigrations(db, schema)).toBe(journal.entries.length)
    const where = await db.execute<{ schema: string }>(
      sql`select table_schema as schema from information_schema.tables
          where table_name = 'sites' and table_schema = ${schema}`,
    )
    expect(where.rows).toEqual([{ schema }])
  })

  it('finds nothing left to do when migrations run again', async () => {
    const { db, schema, handle } = await testDb()
    await createSite(db, { name: 'Kept', allowedOrigins: [] })
    await runMigrations(handle)
    expect(await appliedMigrations(db, schema)).toBe(journal.entries.length)
    expect(await countSites(db)).toBe(1)
  })

  it('lets several processes start on one fresh schema at once', async () => {
    const schema = uniqueSchema()
    const open = () => createDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '.data', schema })
    const handles = await Promise.allSettled([open(), open(), open(), open()])
    onTestFinished(async () => {
      const opened = handles.flatMap((h) => (h.status === 'fulfilled' ? [h.value] : []))
      await Promise.all(opened.map((h) => h.close()))
      await dropSchema(schema)
    })
    const failures = handles.flatMap((h) => (h.status === 'rejected' ? [String(h.reason)] : []))
    expect(failures).toEqual([])
    const first = handles[0]
    if (first?.status !== 'fulfilled') {
      throw new Error('first handle did not open')
    }
    expect(await appliedMigrations(first.value.db, schema)).toBe(journal.entries.length)
  })

  it('answers ping while open and rejects after close', async () => {
    const { handle } = await testDb()
    await expect(handle.ping()).resolves.toBeUndefined()
    await handle.close()
    await handle.close()
    await expect(handle.ping()).rejects.toThrow()
  })

  it('fails ping within about 2 s when no connection is free', async () => {
    const { db, handle } = await testDb()
    const busy = Array.from({ length: 10 }, async () => db.execute(sql`select pg_sleep(5)`))
    const started = Date.now()
    await expect(handle.ping()).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(4_000)
    await Promise.all(busy)
  })

  it('fails fast, leaving nothing open, when the server is unreachable', async () => {
    const started = Date.now()
    await expect(
      createDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', dataDir: '.data' }),
    ).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('refuses a schema name it would have to escape', async () => {
    await expect(
      createDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '.data', schema: 'x"; drop table y' }),
    ).rejects.toThrow(/invalid database schema name/)
  })
})

// Creating a PGlite data directory runs initdb in WebAssembly: seconds on an idle machine, far
// more on a busy CI runner. One fresh directory serves every step; reopening it is fast.
describe('createDb on embedded PGlite', { timeout: 120_000 }, () => {
  it('migrates, stores sites, keeps them across restarts and honours a schema', async () => {
    const { db, dataDir, handle } = await testPglite()
    expect(handle.kind).toBe('pglite')
    expect(await appliedMigrations(db, 'drizzle')).toBe(journal.entries.length)
    expect(await tableSchema(db, 'sites')).toBe('public')
    const made = await createSite(db, { name: 'Embedded', allowedOrigins: ['http://localhost:*'] })
    expect(await findSiteByWriteKey(db, made.writeKey)).toEqual(made.site)
    await expect(handle.ping()).resolves.toBeUndefined()
    await handle.close()

    const reopened = await createDb({ dataDir })
    try {
      expect(await appliedMigrations(reopened.db, 'drizzle')).toBe(journal.entries.length)
      expect(await findSiteBySecret(reopened.db, made.secret)).toEqual(made.site)
    } finally {
      await reopened.close()
    }

    const scoped = await createDb({ dataDir, schema: 'tenant_a' })
    try {
      expect(await appliedMigrations(scoped.db, 'tenant_a')).toBe(journal.entries.length)
      expect(await tableSchema(scoped.db, 'sites')).toBe('public,tenant_a')
      expect(await countSites(scoped.db)).toBe(0)
      expect((await ensureDemoSite(scoped.db, {})).created).toBe(true)
      expect(await ensureDemoSite(scoped.db, {})).toEqual({ created: false })
      expect(await countSites(scoped.db)).toBe(1)
      expect(await findSiteBySecret(scoped.db, made.secret)).toBeUndefined()
    } finally {
      await scoped.close()
    }
  })
})
