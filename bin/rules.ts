/**
 * @module `nudge rules export|import`: move a site's rules between environments as JSON.
 * Export writes `{ rules: [{ name, status, …spec }] }`; import validates every rule with the
 * same model as the admin API, reports each bad one by index and field, and stores nothing
 * unless all are valid. Imported rules are new rules (new ids), kept as draft unless
 * `--keep-status`, so nothing goes live by accident.
 * Exit codes: 0 done, 1 the site does not exist or a rule is invalid, 2 the command line is wrong.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { Db } from '../drizzle/client'
import { createRule, listRules, type RuleStatus } from '../drizzle/queries/rules'
import { findSite } from '../drizzle/queries/sites'
import { RULE_STATUSES, ruleInput, ruleIssues } from '../streams/rules'

export const RULES_USAGE = `Usage: nudge rules <command>

Commands:
  export --site <siteId|writeKey>                      print the site's rules as JSON
  import <file> --site <siteId|writeKey> [--keep-status]
        add the rules of an exported file (as drafts unless --keep-status)
  help  show this help`

export type RulesDeps = {
  db: Db
  out: (line: string) => void
  /** Tells running workers to reload (best effort). */
  announce?: (siteId: string) => Promise<void>
}

export async function runRulesCommand(argv: string[], deps: RulesDeps): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help') {
    deps.out(RULES_USAGE)
    return command === undefined ? 2 : 0
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { site: { type: 'string' }, 'keep-status': { type: 'boolean', default: false } },
  })
  if (!values.site) {
    deps.out(`--site is required.\n\n${RULES_USAGE}`)
    return 2
  }
  const site = await findSite(deps.db, values.site)
  if (!site) {
    deps.out(`No site "${values.site}" (give a site id or write key; see nudge sites list).`)
    return 1
  }
  if (command === 'export') {
    const rules = await listRules(deps.db, site.id)
    deps.out(
      JSON.stringify({ rules: rules.map((r) => ({ status: r.status, ...r.spec })) }, null, 2),
    )
    return 0
  }
  if (command !== 'import' || positionals.length !== 1) {
    deps.out(`Expected "export" or "import <file>".\n\n${RULES_USAGE}`)
    return 2
  }
  const file = positionals[0] as string
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    deps.out(`Cannot read ${file} as JSON: ${(err as Error).message}`)
    return 1
  }
  const list = (parsed as { rules?: unknown })?.rules
  if (!Array.isArray(list)) {
    deps.out(`${file} has no "rules" list; expected the output of nudge rules export.`)
    return 1
  }
  const valid = []
  let bad = 0
  for (const [i, item] of list.entries()) {
    const { status, ...spec } = (item ?? {}) as { status?: unknown }
    const result = ruleInput.safeParse(spec)
    if (!result.success) {
      bad += 1
      for (const issue of ruleIssues(result.error)) {
        deps.out(`rules[${i}] ${issue.field}: ${issue.reason}`)
      }
      continue
    }
    const keep =
      values['keep-status'] && RULE_STATUSES.includes(status as RuleStatus)
        ? (status as RuleStatus)
        : 'draft'
    valid.push({ spec: result.data, status: keep })
  }
  if (bad > 0) {
    deps.out(`${bad} of ${list.length} rules are invalid; nothing was imported.`)
    return 1
  }
  for (const rule of valid) {
    await createRule(deps.db, {
      siteId: site.id,
      spec: rule.spec,
      status: rule.status,
      actor: 'cli:import',
    })
  }
  await deps.announce?.(site.id)
  deps.out(`Imported ${valid.length} rules into ${site.id}.`)
  return 0
}
