/**
 * @module Test helpers for PostgreSQL: a migrated database on a schema no other test uses, or an
 * embedded PGlite in a temporary directory; teardown is registered with the running test, so it
 * runs even when the test fails.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from 'pg'
import { onTestFinished } from 'vitest'
import { createDb, type Db, type DbHandle } from '../drizzle/client'

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name no other test uses, e.g. `t_4f0c9a1b2d3e`. */
export function uniqueSchema(): string {
  return `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`
}

/**
 * A migrated database on a fresh schema of the test PostgreSQL; the schema is dropped and the
 * pool closed when the test ends.
 * @example const { db } = await testDb()
 */
export async function testDb(): Promise<{ db: Db; schema: string; handle: DbHandle }> {
  const schema = uniqueSchema()
  let handle: DbHandle | undefined
  // Registered first, so a schema left half-migrated by a failing createDb is dropped too.
  onTestFinished(async () => {
    try {
      await handle?.close()
    } finally {
      await dropSchema(schema)
    }
  })
  handle = await createDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '.data', schema })
  return { db: handle.db, schema, handle }
}

/**
 * A migrated embedded PGlite in a temporary directory, closed and deleted when the test ends.
 * @example const { db, dataDir } = await testPglite()
 */
export async function testPglite(
  opts: { schema?: string } = {},
): Promise<{ db: Db; dataDir: string; handle: DbHandle }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nudge-pglite-'))
  let handle: DbHandle | undefined
  onTestFinished(async () => {
    try {
      await handle?.close()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
  handle = await createDb({ dataDir, ...opts })
  return { db: handle.db, dataDir, handle }
}

/** On its own connection, so teardown works even when the test closed its handle. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await client.end()
  }
}
