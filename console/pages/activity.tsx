/** @jsxImportSource hono/jsx */
/**
 * @module The site's activity (GET /v1/admin/audit): who changed what and when — rules, staff,
 * settings, job retries — newest first, in words. Any staff role.
 */
import type { AuditEntry, StaffView } from '../admin-client'
import { formatTime } from '../format'
import { Layout, type Notice } from '../layout'

const ACTIONS: Record<string, string> = {
  'jobs.retry': 'retried failed jobs',
  'staff.invite': 'invited',
  'staff.role': 'changed the role of',
  'staff.remove': 'removed',
  'staff.password': 'changed their password',
  'token.create': 'made an API token',
  'token.revoke': 'revoked an API token',
  'site.origin.add': 'allowed an origin',
  'site.origin.remove': 'stopped allowing an origin',
  'site.keys.rotate': 'rotated both keys',
  'site.secret.rotate': 'rotated the secret',
  'site.weights': 'changed the engagement weights',
}

/** The entry's detail as short text (`email: x, role: editor`). */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ')
}

export function ActivityPage(props: {
  staff: StaffView
  csrf: string
  entries?: AuditEntry[]
  notice?: Notice
}) {
  return (
    <Layout title="Activity" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      {props.entries && props.entries.length === 0 && <p>Nothing has changed yet.</p>}
      {props.entries && props.entries.length > 0 && (
        <table class="cards">
          <caption class="sr-only">Changes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => {
              const rule = /^rule:(.+)$/.exec(e.subject)?.[1]
              return (
                <tr>
                  <td data-label="When">{formatTime(e.at)}</td>
                  <td data-label="Who">{e.actor}</td>
                  <td data-label="What">
                    {ACTIONS[e.action] ?? e.action}{' '}
                    {rule ? <a href={`/console/rules/${rule}`}>{rule}</a> : e.subject}
                  </td>
                  <td data-label="Details">{detailText(e.detail)}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </Layout>
  )
}
