/**
 * @module Opens the database — PostgreSQL through a node-postgres pool when a URL is given, else
 * an embedded PGlite under the data directory — and applies pending migrations before returning.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres'
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { Pool } from 'pg'
import * as tables from './schema/index'

/**
 * What queries take: the same typed database whichever driver is underneath. Raw results
 * (`db.execute`) are typed down to what node-postgres and PGlite share: `rows`.
 */
export type Db = PgDatabase<RawResultHKT, typeof tables>

/** The result shape both drivers' `execute` returns, for drizzle's higher-kinded result type. */
export interface RawResultHKT extends PgQueryResultHKT {
  type: RawResult<this['row']>
}

type RawResult<Row> = { rows: Row[] }

export type DbOptions = {
  /** A postgres:// URL; without it the embedded PGlite is used. */
  databaseUrl?: string
  /** PGlite keeps its files in `${dataDir}/pglite`; only one process may open it at a time. */
  dataDir: string
  /**
   * A pg schema (lowercase letters, digits, `_`) that holds every table and drizzle's migration
   * bookkeeping; created when missing. Without it, tables go wherever the server's default
   * search_path points (usually `public`) and bookkeeping in the `drizzle` schema.
   */
  schema?: string
  /** Told about connections that die while idle in the pool; they are replaced on next use. */
  onError?: (err: Error) => void
}

type HandleBase = {
  db: Db
  schema: string | undefined
  /** Resolves when a trivial query succeeds; a readiness check that rejects within ~2 s. */
  ping(): Promise<void>
  /** Ends every connection; safe to call more than once. */
  close(): Promise<void>
}

/** An open database. The raw client is exposed for migrations and tests; queries use `db`. */
export type DbHandle = HandleBase &
  ({ kind: 'postgres'; pool: Pool } | { kind: 'pglite'; pglite: PGlite })

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))
const DEFAULT_MIGRATIONS_SCHEMA = 'drizzle'
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/
const TIMEOUT_MS = 2_000

/**
 * Opens the database and runs `runMigrations` on it, so a returned handle always has the current
 * schema. On failure nothing is left open.
 * @example const { db, ping, close } = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: '.data' })
 */
export async function createDb(opts: DbOptions): Promise<DbHandle> {
  const schema = opts.schema
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(
      `invalid database schema name "${schema}": expected lowercase letters, digits and "_", starting with a letter or "_", at most 63 characters`,
    )
  }
  const handle = opts.databaseUrl
    ? openPostgres(opts.databaseUrl, schema, opts.onError)
    : await openPglite(join(opts.dataDir, 'pglite'), schema)
  try {
    await runMigrations(handle)
  } catch (err) {
    // The migration error is the one worth reporting; a failure to close on top of it is noise.
    await handle.close().catch(() => undefined)
    throw err
  }
  return handle
}

/**
 * Applies every migration in drizzle/migrations not yet recorded in the handle's schema. Safe to
 * run from several processes at once: on postgres a session advisory lock per schema lets one
 * migrate while the others wait, then find nothing left to do.
 * @example await runMigrations(handle)
 */
export async function runMigrations(handle: DbHandle): Promise<void> {
  const config = {
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsSchema: handle.schema ?? DEFAULT_MIGRATIONS_SCHEMA,
  }
  const createSchema = handle.schema
    ? `create schema if not exists ${quoteIdent(handle.schema)}`
    : undefined
  if (handle.kind === 'pglite') {
    if (createSchema) {
      await handle.pglite.exec(createSchema)
    }
    await migratePglite(drizzlePglite(handle.pglite), config)
    return
  }
  const lock = `nudge.migrations.${handle.schema ?? ''}`
  const client = await handle.pool.connect()
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [lock])
    if (createSchema) {
      await client.query(createSchema)
    }
    await migratePostgres(drizzlePostgres(client), config)
    await client.query('select pg_advisory_unlock(hashtext($1))', [lock])
    client.release()
  } catch (err) {
    // Destroying the connection also drops its session lock, whatever state it was left in.
    client.release(true)
    throw err
  }
}

function openPostgres(
  url: string,
  schema: string | undefined,
  onError: ((err: Error) => void) | undefined,
): DbHandle {
  const pool = new Pool({
    connectionString: url,
    max: 10,
    // Bounds both connecting and waiting for a free connection, so readiness fails fast.
    connectionTimeoutMillis: TIMEOUT_MS,
    application_name: 'nudge',
    idleTimeoutMillis: 30_000,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  })
  // Without a listener an idle connection's error would crash the process.
  pool.on('error', (err) => onError?.(err))
  const db = drizzlePostgres(pool, { schema: tables })
  return {
    kind: 'postgres',
    pool,
    db,
    schema,
    ping: () => withTimeout(db.execute(sql`select 1`), 'postgres did not answer "select 1"'),
    close: once(() => pool.end()),
  }
}

async function openPglite(dir: string, schema: string | undefined): Promise<DbHandle> {
  await mkdir(dir, { recursive: true })
  const pglite = await PGlite.create(dir)
  if (schema) {
    // PGlite is a single session, so setting search_path once covers every later query.
    await pglite.exec(
      `create schema if not exists ${quoteIdent(schema)}; set search_path to ${quoteIdent(schema)}`,
    )
  }
  const db = drizzlePglite(pglite, { schema: tables })
  return {
    kind: 'pglite',
    pglite,
    db,
    schema,
    ping: () => db.execute(sql`select 1`).then(() => undefined),
    close: once(() => pglite.close()),
  }
}

/** Schema names are checked against SCHEMA_NAME first, so quoting needs no escaping. */
function quoteIdent(name: string): string {
  return `"${name}"`
}

/** A connected but hung server would otherwise stall a readiness probe indefinitely. */
async function withTimeout(work: Promise<unknown>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
  })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => {
    done ??= fn()
    return done
  }
}
