/** @jsxImportSource hono/jsx */
/**
 * @module A rule's version history (GET /v1/admin/rules/:id/versions): who saved each version and
 * when, a readable difference between any two of them (rule-diff.ts; newest two by default), and
 * for editors "restore": an old version's settings saved again as a new version.
 */
import type { RuleView, StaffView, VersionView } from '../admin-client'
import { formatTime } from '../format'
import { Layout } from '../layout'
import { diffRules } from '../rule-diff'

function VersionSelect(props: {
  name: string
  label: string
  versions: VersionView[]
  value: number
}) {
  return (
    <div class="field">
      <label for={`v-${props.name}`}>{props.label}</label>
      <select id={`v-${props.name}`} name={props.name}>
        {props.versions.map((v) => (
          <option value={String(v.version)} selected={v.version === props.value}>
            {`version ${v.version} (${v.createdBy})`}
          </option>
        ))}
      </select>
    </div>
  )
}

export function RuleVersionsPage(props: {
  staff: StaffView
  csrf: string
  rule: RuleView
  versions: VersionView[]
  from?: number
  to?: number
  /** Editors and admins may save an old version again (as a new version). */
  canEdit: boolean
}) {
  const { rule, versions } = props
  const latest = versions[versions.length - 1]?.version ?? 1
  const to = versions.find((v) => v.version === props.to) ?? versions[versions.length - 1]
  const from =
    versions.find((v) => v.version === props.from) ??
    versions.find((v) => v.version === (to?.version ?? latest) - 1) ??
    to
  const lines = from && to ? diffRules(from.spec, to.spec) : []
  return (
    <Layout title={`History of “${rule.name}”`} staff={props.staff} csrf={props.csrf}>
      <p>
        <a href={`/console/rules/${rule.id}`}>Back to the rule</a>
      </p>
      <table class="cards">
        <caption class="sr-only">Versions</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved by</th>
            <th scope="col">When</th>
            {props.canEdit && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {[...versions].reverse().map((v) => (
            <tr>
              <td data-label="Version">{v.version}</td>
              <td data-label="Saved by">{v.createdBy}</td>
              <td data-label="When">{formatTime(v.createdAt)}</td>
              {props.canEdit && (
                <td data-label="Actions">
                  {v.version !== latest && (
                    <form method="post" action={`/console/rules/${rule.id}/restore`}>
                      <input type="hidden" name="_csrf" value={props.csrf} />
                      <input type="hidden" name="version" value={String(v.version)} />
                      <button type="submit">Restore version {v.version}</button>
                    </form>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Compare two versions</h2>
      {versions.length < 2 ? (
        <p>There is only one version so far.</p>
      ) : (
        <>
          <form method="get" class="filters">
            <VersionSelect
              name="from"
              label="From"
              versions={versions}
              value={from?.version ?? 1}
            />
            <VersionSelect name="to" label="To" versions={versions} value={to?.version ?? latest} />
            <button type="submit">Compare</button>
          </form>
          {lines.length === 0 ? (
            <p>These two versions are the same.</p>
          ) : (
            <table
              class="cards diff"
              aria-label={`Changes from version ${from?.version} to ${to?.version}`}
            >
              <thead>
                <tr>
                  <th scope="col">Setting</th>
                  <th scope="col">Version {from?.version}</th>
                  <th scope="col">Version {to?.version}</th>
                </tr>
              </thead>
              <tbody>
                {lines.map((line) => (
                  <tr>
                    <td data-label="Setting">{line.label}</td>
                    <td data-label={`Version ${from?.version}`}>
                      {line.before === undefined ? (
                        <span class="muted">(not set)</span>
                      ) : (
                        <del>{line.before}</del>
                      )}
                    </td>
                    <td data-label={`Version ${to?.version}`}>
                      {line.after === undefined ? (
                        <span class="muted">(not set)</span>
                      ) : (
                        <ins>{line.after}</ins>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Layout>
  )
}
