/**
 * @module Staff API tokens (`Authorization: Bearer ntk_…`): made with an expiry, checked on every
 * admin request, listed and revoked by id (`tok_…`). The table holds each token's SHA-256 only,
 * so neither a list nor a leaked table shows a usable token. A revoked token keeps its row, so
 * its holder is told "revoked" rather than "unknown"; rows that ended long ago are removed when
 * their owner makes a new token.
 */
import { createHash } from 'node:crypto'
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { newId, randomKey } from '../../runtime/ids'
import type { Db } from '../client'
import { staff, staffTokens } from '../schema/offers'
import type { Staff } from './staff'

/** How long a token lives, in days: the default, and the range a person may choose. */
export const TOKEN_DAYS = { default: 90, min: 1, max: 365 } as const

/** `lastUsedAt` is written at most this often per token, so busy scripts cost no writes. */
export const LAST_USED_EVERY_MS = 60_000

/** Expired or revoked tokens are forgotten this long after they ended (then they are "unknown"). */
const FORGET_AFTER_MS = 90 * 86_400_000

const DAY_MS = 86_400_000

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** A token as lists show it: never the token, never its hash. */
export type StaffTokenView = {
  id: string
  name: string
  staffId: string
  email: string
  createdAt: Date
  expiresAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

const viewColumns = {
  id: staffTokens.id,
  name: staffTokens.name,
  staffId: staffTokens.staffId,
  email: staff.email,
  createdAt: staffTokens.createdAt,
  expiresAt: staffTokens.expiresAt,
  lastUsedAt: staffTokens.lastUsedAt,
  revokedAt: staffTokens.revokedAt,
}

/**
 * Makes a token for a staff member, living `expiresInDays` (TOKEN_DAYS; the caller validates the
 * range). The raw token is in the answer once and nowhere else.
 * @example const { token, id, expiresAt } = await createStaffToken(db, { staffId, name: 'ci' })
 */
export async function createStaffToken(
  db: Db,
  input: { staffId: string; name: string; expiresInDays?: number; now?: Date },
): Promise<{ id: string; token: string; name: string; createdAt: Date; expiresAt: Date }> {
  const now = input.now ?? new Date()
  const token = randomKey('ntk', 32)
  const id = newId('tokenId', now.getTime())
  const expiresAt = new Date(now.getTime() + (input.expiresInDays ?? TOKEN_DAYS.default) * DAY_MS)
  const forgetBefore = new Date(now.getTime() - FORGET_AFTER_MS)
  await db
    .delete(staffTokens)
    .where(
      and(
        eq(staffTokens.staffId, input.staffId),
        or(lt(staffTokens.expiresAt, forgetBefore), lt(staffTokens.revokedAt, forgetBefore)),
      ),
    )
  await db.insert(staffTokens).values({
    tokenHash: sha256(token),
    id,
    staffId: input.staffId,
    name: input.name,
    createdAt: now,
    expiresAt,
  })
  return { id, token, name: input.name, createdAt: now, expiresAt }
}

/** What a presented token turned out to be. */
export type TokenCheck =
  | { ok: true; staff: Staff; tokenId: string }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'expired' | 'revoked'; at: Date }

/**
 * Checks a presented token: its staff member when it is live, else why not (a revoked token
 * says so even when it has also expired). Notes the use, at most once a minute per token, with
 * a conditional update, so several api processes do not all write.
 * @example const check = await verifyStaffToken(db, 'ntk_…'); if (check.ok) check.staff.siteId
 */
export async function verifyStaffToken(
  db: Db,
  token: string,
  now = new Date(),
): Promise<TokenCheck> {
  const hash = sha256(token)
  const [row] = await db
    .select({
      id: staff.id,
      siteId: staff.siteId,
      email: staff.email,
      role: staff.role,
      tokenId: staffTokens.id,
      expiresAt: staffTokens.expiresAt,
      revokedAt: staffTokens.revokedAt,
      lastUsedAt: staffTokens.lastUsedAt,
    })
    .from(staffTokens)
    .innerJoin(staff, eq(staff.id, staffTokens.staffId))
    .where(eq(staffTokens.tokenHash, hash))
  if (!row) {
    return { ok: false, reason: 'unknown' }
  }
  if (row.revokedAt) {
    return { ok: false, reason: 'revoked', at: row.revokedAt }
  }
  if (row.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, reason: 'expired', at: row.expiresAt }
  }
  const staleBefore = new Date(now.getTime() - LAST_USED_EVERY_MS)
  if (!row.lastUsedAt || row.lastUsedAt.getTime() < staleBefore.getTime()) {
    await db
      .update(staffTokens)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(staffTokens.tokenHash, hash),
          or(isNull(staffTokens.lastUsedAt), lt(staffTokens.lastUsedAt, staleBefore)),
        ),
      )
  }
  const { tokenId, id, siteId, email, role } = row
  return { ok: true, staff: { id, siteId, email, role }, tokenId }
}

/**
 * A site's tokens, newest first: one member's (`staffId`) or every member's. Expired and revoked
 * tokens are listed too (until forgotten), so their owners see why a script stopped.
 * @example await listStaffTokens(db, { siteId, staffId })
 */
export async function listStaffTokens(
  db: Db,
  scope: { siteId: string; staffId?: string },
): Promise<StaffTokenView[]> {
  return db
    .select(viewColumns)
    .from(staffTokens)
    .innerJoin(staff, eq(staff.id, staffTokens.staffId))
    .where(
      and(
        eq(staff.siteId, scope.siteId),
        scope.staffId === undefined ? undefined : eq(staffTokens.staffId, scope.staffId),
      ),
    )
    .orderBy(desc(staffTokens.createdAt), desc(staffTokens.id))
}

/**
 * Revokes token `id` of the site (and of `staffId`, when given). Undefined when the scope holds
 * no such token — another site's token is "not found", never "not yours". `revoked` is false
 * when it was revoked already (nothing changed).
 * @example const done = await revokeStaffToken(db, { siteId, id: 'tok_…', staffId })
 */
export async function revokeStaffToken(
  db: Db,
  scope: { siteId: string; id: string; staffId?: string; now?: Date },
): Promise<{ token: StaffTokenView; revoked: boolean } | undefined> {
  const [token] = await db
    .select(viewColumns)
    .from(staffTokens)
    .innerJoin(staff, eq(staff.id, staffTokens.staffId))
    .where(
      and(
        eq(staffTokens.id, scope.id),
        eq(staff.siteId, scope.siteId),
        scope.staffId === undefined ? undefined : eq(staffTokens.staffId, scope.staffId),
      ),
    )
  if (!token) {
    return undefined
  }
  const [changed] = await db
    .update(staffTokens)
    .set({ revokedAt: scope.now ?? sql`now()` })
    .where(and(eq(staffTokens.id, scope.id), isNull(staffTokens.revokedAt)))
    .returning({ revokedAt: staffTokens.revokedAt })
  return changed
    ? { token: { ...token, revokedAt: changed.revokedAt }, revoked: true }
    : { token, revoked: false }
}

/** True while a listed token still works at `now`. */
export function tokenIsLive(token: Pick<StaffTokenView, 'expiresAt' | 'revokedAt'>, now: Date) {
  return token.revokedAt === null && token.expiresAt.getTime() > now.getTime()
}
