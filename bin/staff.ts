/**
 * @module `nudge staff …`: create staff accounts and API tokens. The password is read from
 * NUDGE_STAFF_PASSWORD or stdin, never from the command line (where `ps` and shell history
 * would keep it). Exit codes: 0 done, 1 the named site or staff member does not exist or
 * already exists, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import type { Db } from '../drizzle/client'
import { findSite } from '../drizzle/queries/sites'
import { createStaff, createStaffToken, findStaffByEmail } from '../drizzle/queries/staff'
import { STAFF_ROLES, type StaffRole } from '../drizzle/schema/offers'
import { hashPassword } from '../runtime/passwords'

export const STAFF_USAGE = `Usage: nudge staff <command>

Commands:
  create --site <siteId|writeKey> --email EMAIL [--role viewer|editor|admin]
        create a console account (role admin by default); the password comes from
        NUDGE_STAFF_PASSWORD or, when unset, the first line of stdin (at least 10 characters)
  token --site <siteId|writeKey> --email EMAIL [--name NAME]
        make an API token for scripts (Authorization: Bearer …); printed once
  help  show this help`

export type StaffDeps = { db: Db; out: (line: string) => void; readPassword: () => Promise<string> }

const MIN_PASSWORD = 10

export async function runStaffCommand(argv: string[], deps: StaffDeps): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help') {
    deps.out(STAFF_USAGE)
    return command === undefined ? 2 : 0
  }
  if (command !== 'create' && command !== 'token') {
    deps.out(`Unknown staff command "${command}".\n\n${STAFF_USAGE}`)
    return 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      site: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string', default: 'admin' },
      name: { type: 'string', default: 'cli' },
    },
  })
  if (!values.site || !values.email) {
    deps.out(`--site and --email are required.\n\n${STAFF_USAGE}`)
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
    if (password.length < MIN_PASSWORD) {
      deps.out(`The password needs at least ${MIN_PASSWORD} characters.`)
      return 2
    }
    const existing = await findStaffByEmail(deps.db, values.email)
    if (existing.some((s) => s.siteId === site.id)) {
      deps.out(`${values.email} already has an account on ${site.id}.`)
      return 1
    }
    const staff = await createStaff(deps.db, {
      siteId: site.id,
      email: values.email,
      passwordHash: await hashPassword(password),
      role,
    })
    deps.out(`Created ${staff.role} ${staff.email} (${staff.id}) on ${site.id}.`)
    return 0
  }
  const staff = (await findStaffByEmail(deps.db, values.email)).find((s) => s.siteId === site.id)
  if (!staff) {
    deps.out(`${values.email} has no account on ${site.id}; create it with nudge staff create.`)
    return 1
  }
  deps.out(await createStaffToken(deps.db, staff.id, values.name ?? 'cli'))
  return 0
}
