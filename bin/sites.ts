/**
 * @module `nudge sites …`: create and list sites, edit their origin allow-lists, rotate keys.
 * Exit codes: 0 done, 1 the named site or origin does not exist, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import type { Db } from '../drizzle/client'
import { type OriginPattern, parseOriginPattern } from '../drizzle/origins'
import {
  addOrigin,
  createSite,
  listSites,
  removeOrigin,
  rotateKeys,
  rotateSecret,
  type Site,
  setEventWeights,
} from '../drizzle/queries/sites'
import type { SecretBox } from '../runtime/secret-box'
import { EVENT_TYPES } from '../streams/events'

/** `box` seals new secrets (runtime/secret-box.ts); without it sites cannot check userHash. */
export type SitesDeps = { db: Db; out: (line: string) => void; box?: SecretBox }

export const SITES_USAGE = `Usage: nudge sites <command> [--json]

Commands:
  create --name NAME [--origin ORIGIN]...    create a site; prints its write key and secret
  list                                       list every site
  add-origin <siteId|writeKey> <origin>      allow pages from one more origin
  remove-origin <siteId|writeKey> <origin>   stop allowing an origin
  rotate-keys <siteId|writeKey>              replace the write key and the secret
  rotate-secret <siteId|writeKey>            replace only the secret (pages keep the write key)
  set-weights <siteId|writeKey> <weights>    override engagement weights, e.g.
                                             OrderCompleted=30,AddedToCart=6 ('defaults' resets)
  help                                       show this help

Options:
  --json    print machine-readable JSON instead of text

Origins: https://shop.example.com, http://localhost:8080, http://localhost:* (any port),
  https://*.example.com (any subdomain), '*' (any origin; for development only)`

const MAX_NAME_LENGTH = 200

type CommandSpec = {
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>
  positionals: string[]
}

// A Map, not an object literal, so `constructor` or `__proto__` are unknown commands too.
const COMMANDS = new Map<string, CommandSpec>([
  [
    'create',
    {
      options: { name: { type: 'string' }, origin: { type: 'string', multiple: true } },
      positionals: [],
    },
  ],
  ['list', { options: {}, positionals: [] }],
  ['add-origin', { options: {}, positionals: ['<siteId|writeKey>', '<origin>'] }],
  ['remove-origin', { options: {}, positionals: ['<siteId|writeKey>', '<origin>'] }],
  ['rotate-keys', { options: {}, positionals: ['<siteId|writeKey>'] }],
  ['rotate-secret', { options: {}, positionals: ['<siteId|writeKey>'] }],
  ['set-weights', { options: {}, positionals: ['<siteId|writeKey>', '<weights>'] }],
])

const GLOBAL_FLAGS = new Set(['--json', '--help', '-h'])

class UsageError extends Error {}

class NotFoundError extends Error {}

/**
 * Runs one `nudge sites` command and returns the process exit code; all output, errors included,
 * goes through `deps.out`. Database failures are not caught: they are not the user's mistake.
 * @example process.exitCode = await runSitesCommand(['list'], { db, out: console.log })
 */
export async function runSitesCommand(args: string[], deps: SitesDeps): Promise<number> {
  const json = args.includes('--json')
  // Global flags may come before the command: `nudge sites --json list`.
  const at = args.findIndex((arg) => !GLOBAL_FLAGS.has(arg))
  const command = at === -1 ? undefined : args[at]
  const rest = args.filter((_, i) => i !== at)
  try {
    if (command === 'help' || (command === undefined && rest.some((a) => a !== '--json'))) {
      deps.out(SITES_USAGE)
      return 0
    }
    if (command === undefined) {
      throw new UsageError('a command is required')
    }
    const spec = COMMANDS.get(command)
    if (!spec) {
      throw new UsageError(`unknown command "${command}"`)
    }
    const parsed = parseCommandLine(command, spec, rest)
    if (parsed.help) {
      deps.out(SITES_USAGE)
      return 0
    }
    await run(command, parsed, { ...deps, json })
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      if (json) {
        deps.out(JSON.stringify({ error: { code: 'usage', message: err.message } }))
      } else {
        deps.out(`nudge sites: ${err.message}\n\n${SITES_USAGE}`)
      }
      return 2
    }
    if (err instanceof NotFoundError) {
      deps.out(
        json
          ? JSON.stringify({ error: { code: 'not_found', message: err.message } })
          : `nudge sites: ${err.message}`,
      )
      return 1
    }
    throw err
  }
}

type Parsed = {
  help: boolean
  name: string | undefined
  origins: string[]
  positionals: string[]
}

function parseCommandLine(command: string, spec: CommandSpec, args: string[]): Parsed {
  let result: ReturnType<typeof parseArgs>
  try {
    result = parseArgs({
      args,
      options: {
        ...spec.options,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    throw new UsageError(describeParseError(command, spec, err))
  }
  const { values, positionals } = result
  if (positionals.length !== spec.positionals.length) {
    const expected = spec.positionals.length === 0 ? 'no arguments' : spec.positionals.join(' ')
    throw new UsageError(
      `${command} takes ${expected}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => `"${p}"`).join(' ')}`,
    )
  }
  const name = values.name
  const origin = values.origin
  return {
    help: values.help === true,
    name: typeof name === 'string' ? name : undefined,
    origins: Array.isArray(origin) ? origin.filter((o) => typeof o === 'string') : [],
    positionals,
  }
}

async function run(
  command: string,
  parsed: Parsed,
  deps: SitesDeps & { json: boolean },
): Promise<void> {
  const { db, out, json } = deps
  const [ref = '', originText = ''] = parsed.positionals
  switch (command) {
    case 'create': {
      const name = parsed.name?.trim() ?? ''
      if (name === '') {
        throw new UsageError('create needs --name NAME (not empty)')
      }
      if (name.length > MAX_NAME_LENGTH) {
        throw new UsageError(`--name is longer than ${MAX_NAME_LENGTH} characters`)
      }
      const origins = parsed.origins.map(origin)
      const made = await createSite(db, { name, allowedOrigins: origins, box: deps.box })
      if (json) {
        out(JSON.stringify(made))
        return
      }
      out(`Created site ${made.site.id} "${made.site.name}"`)
      out(`  write key: ${made.writeKey}`)
      out(`  secret:    ${made.secret}`)
      out(`  origins:   ${formatOrigins(made.site)}`)
      out('The secret is shown only this once: store it now, server side only.')
      warnAnyOrigin(origins, out)
      return
    }
    case 'list': {
      const sites = await listSites(db)
      if (json) {
        out(JSON.stringify({ sites }))
        return
      }
      if (sites.length === 0) {
        out('No sites yet. Create one with: nudge sites create --name NAME --origin ORIGIN')
        return
      }
      printTable(out, [
        ['ID', 'NAME', 'WRITE KEY', 'ORIGINS', 'CREATED'],
        ...sites.map((s) => [s.id, s.name, s.writeKey, formatOrigins(s), formatDate(s.createdAt)]),
      ])
      return
    }
    case 'add-origin': {
      const pattern = origin(originText)
      const result = await addOrigin(db, ref, pattern)
      if (!result) {
        throw siteNotFound(ref)
      }
      if (json) {
        out(JSON.stringify(result))
        return
      }
      out(
        result.added
          ? `Site ${result.site.id} now allows ${pattern}`
          : `Site ${result.site.id} already allows ${pattern}; nothing changed`,
      )
      out(`  origins: ${formatOrigins(result.site)}`)
      warnAnyOrigin([pattern], out)
      return
    }
    case 'remove-origin': {
      const pattern = origin(originText)
      const result = await removeOrigin(db, ref, pattern)
      if (!result) {
        throw siteNotFound(ref)
      }
      if (!result.removed) {
        throw new NotFoundError(
          `site ${result.site.id} does not allow ${pattern}, so nothing was removed; its origins are: ${formatOrigins(result.site)}`,
        )
      }
      if (json) {
        out(JSON.stringify(result))
        return
      }
      out(`Site ${result.site.id} no longer allows ${pattern}`)
      out(`  origins: ${formatOrigins(result.site)}`)
      return
    }
    case 'set-weights': {
      const weights = parseWeights(originText)
      const site = await setEventWeights(db, ref, weights)
      if (!site) {
        throw siteNotFound(ref)
      }
      if (json) {
        out(JSON.stringify({ site, eventWeights: weights }))
        return
      }
      const listed = Object.entries(weights).map(([type, w]) => `${type}=${w}`)
      out(
        `Site ${site.id} now weighs ${listed.length === 0 ? 'every event type by the defaults' : listed.join(', ')}`,
      )
      out('Workers apply it within a minute, to events processed from then on.')
      return
    }
    case 'rotate-keys': {
      const made = await rotateKeys(db, ref, deps.box)
      if (!made) {
        throw siteNotFound(ref)
      }
      if (json) {
        out(JSON.stringify(made))
        return
      }
      out(`New keys for site ${made.site.id} "${made.site.name}"`)
      out(`  write key: ${made.writeKey}`)
      out(`  secret:    ${made.secret}`)
      out('The old write key and secret no longer work (running api processes may accept them')
      out('until their site cache expires, NUDGE_SITE_CACHE_TTL). The secret is shown only once.')
      return
    }
    case 'rotate-secret': {
      if (!deps.box) {
        throw new Error('rotate-secret needs the server key (NUDGE_SECRET_KEY) to seal the secret')
      }
      const made = await rotateSecret(db, ref, deps.box)
      if (!made) {
        throw siteNotFound(ref)
      }
      if (json) {
        out(JSON.stringify(made))
        return
      }
      out(`New secret for site ${made.site.id} "${made.site.name}" (write key unchanged)`)
      out(`  secret:    ${made.secret}`)
      out('userHash values made with the old secret stop proving anything now; identity tokens')
      out('already issued stay valid until they expire (NUDGE_TOKEN_TTL). Update your backend,')
      out('then recompute userHash = HMAC-SHA256(new secret, userId). Shown only this once.')
      return
    }
  }
}

/** node's own message for an unknown option is long and about positionals; say what is accepted. */
function describeParseError(command: string, spec: CommandSpec, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const unknown = /^Unknown option '([^']+)'/.exec(message)
  if (!unknown) {
    return `${command}: ${message}`
  }
  const accepted = [...Object.keys(spec.options), 'json', 'help'].map((name) => `--${name}`)
  return `unknown option ${unknown[1]} for ${command}; it accepts ${accepted.join(', ')}`
}

const WEIGHT_LIMIT = 1000

/** `OrderCompleted=30,AddedToCart=6` → overrides; `defaults` → none. */
function parseWeights(text: string): Record<string, number> {
  if (text === 'defaults') {
    return {}
  }
  const weights: Record<string, number> = {}
  for (const part of text.split(',')) {
    const [type = '', value = ''] = part.split('=').map((x) => x.trim())
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(
        `unknown event type "${type}"; expected one of ${EVENT_TYPES.join(', ')}`,
      )
    }
    const weight = Number(value)
    if (value === '' || !Number.isFinite(weight) || Math.abs(weight) > WEIGHT_LIMIT) {
      throw new UsageError(
        `weight of ${type} must be a number from -${WEIGHT_LIMIT} to ${WEIGHT_LIMIT}; got "${value}"`,
      )
    }
    weights[type] = weight
  }
  return weights
}

function origin(text: string): OriginPattern {
  const parsed = parseOriginPattern(text)
  if (!parsed.ok) {
    throw new UsageError(parsed.error)
  }
  return parsed.pattern
}

function siteNotFound(ref: string): NotFoundError {
  return new NotFoundError(
    `no site has the id or write key "${ref}"; run "nudge sites list" to see them`,
  )
}

function warnAnyOrigin(origins: readonly string[], out: (line: string) => void): void {
  if (origins.includes('*')) {
    out(
      'Warning: * lets pages from any origin send events for this site; use it for development only.',
    )
  }
}

function formatOrigins(site: Site): string {
  return site.allowedOrigins.length === 0 ? '(none)' : site.allowedOrigins.join(', ')
}

function formatDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function printTable(out: (line: string) => void, rows: string[][]): void {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length)
    })
  }
  for (const row of rows) {
    out(
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
  }
}
