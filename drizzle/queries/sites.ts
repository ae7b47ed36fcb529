/**
 * @module Typed reads and writes of sites: create, look up by write key or secret, edit the
 * origin allow-list, rotate keys. Secrets leave this module only when just made, and their hash
 * never leaves it. The secret is also stored sealed (runtime/secret-box.ts, bound to the site
 * id) when the caller passes the install's box, so the api can check userHash proofs; it leaves
 * this module only sealed (`findSealedSecret`).
 */
import { createHash } from 'node:crypto'
import { and, asc, eq, or, type SQL, sql } from 'drizzle-orm'
import { newId, randomKey } from '../../runtime/ids'
import type { SecretBox } from '../../runtime/secret-box'
import type { Db } from '../client'
import { type OriginPattern, parseOriginPattern } from '../origins'
import { sites } from '../schema/index'

/** A site as the rest of Nudge sees it. */
export type Site = {
  id: string
  name: string
  writeKey: string
  allowedOrigins: string[]
  createdAt: Date
  /** The half-life of the engagement score and interests, in hours; null for the default week. */
  halfLifeHours: number | null
}

/** A site with keys made just now; the secret cannot be read back later. */
export type SiteWithKeys = { site: Site; writeKey: string; secret: string }

const siteColumns = {
  id: sites.id,
  name: sites.name,
  writeKey: sites.writeKey,
  allowedOrigins: sites.allowedOrigins,
  createdAt: sites.createdAt,
  halfLifeHours: sites.halfLifeHours,
}

/** Sites are named on the command line by id (`sit_…`) or by write key; both are unique. */
function byRef(ref: string): SQL | undefined {
  return or(eq(sites.id, ref), eq(sites.writeKey, ref))
}

/** Hex SHA-256: secrets are random and long, so an unsalted fast hash is enough to look them up. */
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

function newWriteKey(): string {
  return randomKey('wk', 18)
}

function newSecret(): string {
  return randomKey('sk', 24)
}

/**
 * Normalises an origin pattern, throwing when it is not one: callers holding user input should
 * run `parseOriginPattern` themselves first, to answer with its message.
 */
function pattern(text: string): OriginPattern {
  const parsed = parseOriginPattern(text)
  if (!parsed.ok) {
    throw new TypeError(parsed.error)
  }
  return parsed.pattern
}

/**
 * Creates a site with fresh keys unless some are given. Origins are normalised and deduplicated.
 * With `box`, the secret is also stored sealed (needed for userHash proofs; without it the site
 * must rotate its secret before POST /v1/identity accepts a userId).
 * Throws when an origin is invalid or a given key is already in use.
 * @example const { site, writeKey, secret } = await createSite(db, { name: 'Shop', allowedOrigins: [], box })
 */
export async function createSite(
  db: Db,
  input: {
    name: string
    allowedOrigins: readonly string[]
    writeKey?: string
    secret?: string
    box?: SecretBox
  },
): Promise<SiteWithKeys> {
  const writeKey = input.writeKey ?? newWriteKey()
  const secret = input.secret ?? newSecret()
  const id = newId('site')
  const [site] = await db
    .insert(sites)
    .values({
      id,
      name: input.name,
      writeKey,
      secretHash: hashSecret(secret),
      secretSealed: input.box?.seal(secret, id) ?? null,
      allowedOrigins: [...new Set(input.allowedOrigins.map(pattern))],
    })
    .returning(siteColumns)
  if (!site) {
    throw new Error('insert into sites returned no row')
  }
  return { site, writeKey, secret }
}

/** @example const site = await findSiteByWriteKey(db, 'wk_…') */
export async function findSiteByWriteKey(db: Db, writeKey: string): Promise<Site | undefined> {
  const [site] = await db.select(siteColumns).from(sites).where(eq(sites.writeKey, writeKey))
  return site
}

/** Finds the site whose secret this is; a wrong secret finds nothing. */
export async function findSiteBySecret(db: Db, secret: string): Promise<Site | undefined> {
  const [site] = await db
    .select(siteColumns)
    .from(sites)
    .where(eq(sites.secretHash, hashSecret(secret)))
  return site
}

/** By id or write key. @example await findSite(db, 'sit_…') */
export async function findSite(db: Db, ref: string): Promise<Site | undefined> {
  const [site] = await db.select(siteColumns).from(sites).where(byRef(ref))
  return site
}

/** Oldest first. */
export async function listSites(db: Db): Promise<Site[]> {
  return db.select(siteColumns).from(sites).orderBy(asc(sites.createdAt), asc(sites.id))
}

export async function countSites(db: Db): Promise<number> {
  return db.$count(sites)
}

/**
 * Allows one more origin (normalised; throws when invalid). Atomic, and idempotent: `added` is
 * false when it was already there. Undefined when no site has that id or write key.
 * @example await addOrigin(db, 'sit_…', 'https://shop.example.com')
 */
export async function addOrigin(
  db: Db,
  ref: string,
  originText: string,
): Promise<{ site: Site; added: boolean } | undefined> {
  const origin = pattern(originText)
  const [updated] = await db
    .update(sites)
    .set({ allowedOrigins: sql`array_append(${sites.allowedOrigins}, ${origin})` })
    .where(and(byRef(ref), sql`not (${origin} = any(${sites.allowedOrigins}))`))
    .returning(siteColumns)
  if (updated) {
    return { site: updated, added: true }
  }
  const site = await findSite(db, ref)
  return site && { site, added: false }
}

/**
 * Stops allowing an origin, normalised first so any spelling of a stored pattern removes it
 * (throws when invalid). Atomic; `removed` is false when it was not in the list. Undefined when
 * no site has that id or write key.
 * @example await removeOrigin(db, 'wk_…', 'https://shop.example.com')
 */
export async function removeOrigin(
  db: Db,
  ref: string,
  originText: string,
): Promise<{ site: Site; removed: boolean } | undefined> {
  const origin = pattern(originText)
  const [updated] = await db
    .update(sites)
    .set({ allowedOrigins: sql`array_remove(${sites.allowedOrigins}, ${origin})` })
    .where(and(byRef(ref), sql`${origin} = any(${sites.allowedOrigins})`))
    .returning(siteColumns)
  if (updated) {
    return { site: updated, removed: true }
  }
  const site = await findSite(db, ref)
  return site && { site, removed: false }
}

/**
 * Replaces both keys of a site (by id or write key); the old ones stop resolving at once here,
 * though api processes may honour them until their site cache expires (NUDGE_SITE_CACHE_TTL).
 * Undefined when no site matches.
 * @example const rotated = await rotateKeys(db, 'sit_…'); if (rotated) show(rotated.secret)
 */
export async function rotateKeys(
  db: Db,
  ref: string,
  box?: SecretBox,
): Promise<SiteWithKeys | undefined> {
  const writeKey = newWriteKey()
  const secret = newSecret()
  const found = await findSite(db, ref)
  if (!found) {
    return undefined
  }
  const [site] = await db
    .update(sites)
    .set({
      writeKey,
      secretHash: hashSecret(secret),
      secretSealed: box?.seal(secret, found.id) ?? null,
    })
    .where(eq(sites.id, found.id))
    .returning(siteColumns)
  return site && { site, writeKey, secret }
}

/**
 * Replaces only the secret (pages keep their write key), sealing the new one. The old secret
 * stops working at once here, in api processes within NUDGE_SITE_CACHE_TTL; userHash values
 * made with it stop proving anything at once, and tokens already issued live out their TTL.
 * Undefined when no site matches.
 * @example const rotated = await rotateSecret(db, 'sit_…', box); if (rotated) show(rotated.secret)
 */
export async function rotateSecret(
  db: Db,
  ref: string,
  box: SecretBox,
): Promise<SiteWithKeys | undefined> {
  const secret = newSecret()
  const found = await findSite(db, ref)
  if (!found) {
    return undefined
  }
  const [site] = await db
    .update(sites)
    .set({ secretHash: hashSecret(secret), secretSealed: box.seal(secret, found.id) })
    .where(eq(sites.id, found.id))
    .returning(siteColumns)
  return site && { site, writeKey: site.writeKey, secret }
}

/**
 * The site's sealed secret: a string to open with the install's box, null when the site was
 * made before secrets were sealed (rotate its secret), undefined when there is no such site.
 * @example const sealed = await findSealedSecret(db, 'sit_…')
 */
export async function findSealedSecret(db: Db, siteId: string): Promise<string | null | undefined> {
  const [row] = await db
    .select({ sealed: sites.secretSealed })
    .from(sites)
    .where(eq(sites.id, siteId))
  return row === undefined ? undefined : row.sealed
}

export const DEMO_SITE_NAME = 'Demo store'
const DEMO_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*']

/**
 * Creates the "Demo store" site (origins http://localhost:* and http://127.0.0.1:*) when there is
 * no site at all, using the given keys if any. Serialised by a transaction-scoped advisory lock,
 * so processes starting together create one demo site, not several. When sites already exist the
 * demo secret cannot be shown again: only its hash is stored.
 * @example const demo = await ensureDemoSite(db, {}); if (demo.created) log(demo.writeKey)
 */
export async function ensureDemoSite(
  db: Db,
  keys: { writeKey?: string; secret?: string; box?: SecretBox },
): Promise<{ created: true; site: Site; writeKey: string; secret: string } | { created: false }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.demo-site'))`)
    if ((await tx.$count(sites)) > 0) {
      return { created: false }
    }
    const made = await createSite(tx, {
      name: DEMO_SITE_NAME,
      allowedOrigins: DEMO_ORIGINS,
      ...keys,
    })
    return { created: true, ...made }
  })
}

/** A site's overrides of the profile weights: by event type, and its own half-life. */
export type SiteWeights = { byType: Record<string, number>; halfLifeMs?: number }

/**
 * The site's engagement-weight overrides by event type (empty when it has none) and its own
 * half-life in ms (absent for the default).
 * @example await findEventWeights(db, 'sit_…') // { byType: { OrderCompleted: 30 }, halfLifeMs: 86400000 }
 */
export async function findEventWeights(db: Db, siteId: string): Promise<SiteWeights> {
  const [row] = await db
    .select({ eventWeights: sites.eventWeights, halfLifeHours: sites.halfLifeHours })
    .from(sites)
    .where(eq(sites.id, siteId))
  return {
    byType: row?.eventWeights ?? {},
    ...(row?.halfLifeHours && { halfLifeMs: halfLifeMsOf(row.halfLifeHours) }),
  }
}

/** A stored half-life in hours as ms; undefined (the default) for none. */
export function halfLifeMsOf(hours: number | null | undefined): number | undefined {
  return hours ? hours * 3_600_000 : undefined
}

/** The site's own half-life in ms, or undefined for the default (readers must decay with it). */
export async function findHalfLifeMs(db: Db, siteId: string): Promise<number | undefined> {
  const [row] = await db
    .select({ halfLifeHours: sites.halfLifeHours })
    .from(sites)
    .where(eq(sites.id, siteId))
  return halfLifeMsOf(row?.halfLifeHours)
}

/** Bounds of a site's half-life, in hours: an hour to a year. */
export const HALF_LIFE_HOURS = { min: 1, max: 24 * 365 } as const

/**
 * Sets the half-life of the site's engagement score and interests (null: the default week).
 * The caller validates the bounds. Undefined when no site has that id or write key.
 */
export async function setHalfLife(
  db: Db,
  ref: string,
  hours: number | null,
): Promise<Site | undefined> {
  const [site] = await db
    .update(sites)
    .set({ halfLifeHours: hours })
    .where(byRef(ref))
    .returning(siteColumns)
  return site
}

/**
 * Replaces the site's weight overrides (an empty object returns it to the defaults). The caller
 * validates event types and values. Undefined when no site has that id or write key.
 * @example await setEventWeights(db, 'wk_…', { OrderCompleted: 30 })
 */
export async function setEventWeights(
  db: Db,
  ref: string,
  weights: Record<string, number>,
): Promise<Site | undefined> {
  const [updated] = await db
    .update(sites)
    .set({ eventWeights: Object.keys(weights).length === 0 ? null : weights })
    .where(byRef(ref))
    .returning(siteColumns)
  return updated
}
