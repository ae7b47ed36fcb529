/**
 * @module `nudge staff …`: create staff accounts, and make, list and revoke their API tokens. The
 * password is read from NUDGE_STAFF_PASSWORD or stdin, never from the command line (where `ps`
 * and shell history would keep it). A new token is the only thing `token` prints on stdout (so
 * `TOKEN=$(nudge staff token …)` works); its id and expiry go to stderr. Token changes are
 * audited like the console's. Exit codes: 0 done, 1 the named site, staff member or token does
 * not exist or already exists, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import type { Db } from '../drizzle/client'
import { recordAudit } from '../drizzle/queries/audit'
import { findSite } from '../drizzle/queries/sites'
import { createStaff, findStaffByEmail } from '../drizzle/queries/staff'
import {
  createStaffToken,
  listStaffTokens,
  revokeStaffToken,
  TOKEN_DAYS,
  tokenIsLive,
} from '../drizzle/queries/staff-tokens'
import { STAFF_ROLES, type StaffRole } from '../drizzle/schema/offers'
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../runtime/passwords'

export const STAFF_USAGE = `Usage: nudge staff <command>

Commands:
  create --site <siteId|writeKey> --email EMAIL [--role viewer|editor|admin]
        create a console account (role admin by default); the password comes from
        NUDGE_STAFF_PASSWORD or, when unset, the first line of stdin (at least ${MIN_PASSWORD_LENGTH} characters)
  token --site <siteId|writeKey> --email EMAIL [--name NAME] [--expires-in-days ${TOKEN_DAYS.min}-${TOKEN_DAYS.max}]
        make an API token for scripts (Authorization: Bearer …); printed once; it stops
        working after ${TOKEN_DAYS.default} days unless told otherwise
  tokens --site <siteId|writeKey> [--email EMAIL] [--json]
        list the site's tokens (or one member's): id, owner, name, created, last used,
        expires, state — never the tokens themselves
  revoke <tokenId> --site <siteId|writeKey>
        revoke a token at once (its id, tok_…, from "tokens")
  help  show this help`

export type StaffDeps = {
  db: Db
  out: (line: string) => void
  readPassword: () => Promise<string>
  /** Notes beside the output (stderr), so stdout stays machine-readable; dropped when absent. */
  note?: (line: string) => void
}

const COMMANDS = ['create', 'token', 'tokens', 'revoke'] as const

/** An ISO time to the minute, or a dash. */
const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')}Z` : '-')

export async function runStaffCommand(argv: string[], deps: StaffDeps): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help') {
    deps.out(STAFF_USAGE)
    return command === undefined ? 2 : 0
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    deps.out(`Unknown staff command "${command}".\n\n${STAFF_USAGE}`)
    return 2
  }
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(rest)
  } catch (err) {
    deps.out(`${err instanceof Error ? err.message : String(err)}\n\n${STAFF_USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const needsEmail = command === 'create' || command === 'token'
  if (!values.site || (needsEmail && !values.email)) {
    deps.out(`--site${needsEmail ? ' and --email are' : ' is'} required.\n\n${STAFF_USAGE}`)
    return 2
  }
  if (command === 'revoke' ? positionals.length !== 1 : positionals.length > 0) {
    deps.out(
      `${command === 'revoke' ? 'Give exactly one token id.' : `Unexpected "${positionals.join(' ')}".`}\n\n${STAFF_USAGE}`,
    )
    return 2
  }
  const days = Number(values['expires-in-days'] ?? TOKEN_DAYS.default)
  if (!Number.isInteger(days) || days < TOKEN_DAYS.min || days > TOKEN_DAYS.max) {
    deps.out(
      `--expires-in-days must be a whole number from ${TOKEN_DAYS.min} to ${TOKEN_DAYS.max}; got "${values['expires-in-days']}".`,
    )
    return 2
  }
  const site = await findSite(deps.db, values.site)
  if (!site) {
    deps.out(`No site "${values.site}" (give a site id or write key; see nudge sites list).`)
    return 1
  }
  if (command === 'create') {
    const role = values.role as StaffRole
    if (!STAFF_ROLES.includes(role)) {
      deps.out(`--role must be one of ${STAFF_ROLES.join(', ')}; got "${values.role}".`)
      return 2
    }
    const password = await deps.readPassword()
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      deps.out(
        `The password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters (sign-in reads no more).`,
      )
      return 2
    }
    const existing = await findStaffByEmail(deps.db, values.email as string)
    if (existing.some((s) => s.siteId === site.id)) {
      deps.out(`${values.email} already has an account on ${site.id}.`)
      return 1
    }
    const staff = await createStaff(deps.db, {
      siteId: site.id,
      email: values.email as string,
      passwordHash: await hashPassword(password),
      role,
    })
    deps.out(`Created ${staff.role} ${staff.email} (${staff.id}) on ${site.id}.`)
    return 0
  }
  if (command === 'revoke') {
    const id = positionals[0] as string
    const done = await revokeStaffToken(deps.db, { siteId: site.id, id })
    if (!done) {
      deps.out(`No token ${id} on ${site.id} (see nudge staff tokens --site ${site.id}).`)
      return 1
    }
    if (done.revoked) {
      await recordAudit(deps.db, {
        siteId: site.id,
        actor: 'cli:staff revoke',
        action: 'token.revoke',
        subject: `token:${id}`,
        detail: { name: done.token.name, owner: done.token.email },
      })
    }
    deps.out(
      done.revoked
        ? `Revoked ${id} ("${done.token.name}" of ${done.token.email}); it stops working at once.`
        : `${id} was already revoked.`,
    )
    return 0
  }
  const staff = values.email
    ? (await findStaffByEmail(deps.db, values.email)).find((s) => s.siteId === site.id)
    : undefined
  if (values.email && !staff) {
    deps.out(`${values.email} has no account on ${site.id}; create it with nudge staff create.`)
    return 1
  }
  if (command === 'tokens') {
    const tokens = await listStaffTokens(deps.db, {
      siteId: site.id,
      ...(staff && { staffId: staff.id }),
    })
    const now = new Date()
    const rows = tokens.map((t) => ({
      ...t,
      state: t.revokedAt ? 'revoked' : tokenIsLive(t, now) ? 'active' : 'expired',
    }))
    if (values.json) {
      deps.out(JSON.stringify({ tokens: rows }, null, 2))
      return 0
    }
    if (rows.length === 0) {
      deps.out(`No tokens on ${site.id}${staff ? ` for ${staff.email}` : ''}.`)
      return 0
    }
    for (const t of rows) {
      deps.out(
        `${t.id}  ${t.state.padEnd(7)}  ${t.email}  "${t.name}"  created ${when(t.createdAt)}  last used ${when(t.lastUsedAt)}  expires ${when(t.expiresAt)}`,
      )
    }
    return 0
  }
  if (!staff) {
    deps.out(`--email is required.\n\n${STAFF_USAGE}`)
    return 2
  }
  const owner = staff
  const made = await createStaffToken(deps.db, {
    staffId: owner.id,
    name: values.name ?? 'cli',
    expiresInDays: days,
  })
  await recordAudit(deps.db, {
    siteId: site.id,
    actor: 'cli:staff token',
    action: 'token.create',
    subject: `token:${made.id}`,
    detail: { name: made.name, owner: owner.email, expiresAt: made.expiresAt.toISOString() },
  })
  deps.out(made.token)
  deps.note?.(
    `Token ${made.id} for ${owner.email}, expires ${made.expiresAt.toISOString()}. Shown once: store it now.`,
  )
  return 0
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      site: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string', default: 'admin' },
      name: { type: 'string', default: 'cli' },
      'expires-in-days': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
}
