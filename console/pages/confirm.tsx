/** @jsxImportSource hono/jsx */
/**
 * @module The confirmation step of a change that asks first (pause / activate, retry jobs,
 * remove staff, rotate keys) when the browser runs no script: the same question the script asks
 * with `confirm()`, as a page that posts the same fields again with `confirmed=1`.
 */
import type { StaffView } from '../admin-client'
import { Layout } from '../layout'

export function ConfirmPage(props: {
  staff: StaffView
  csrf: string
  question: string
  action: string
  fields: [string, string][]
  yes: string
  back: string
}) {
  return (
    <Layout title="Please confirm" staff={props.staff} csrf={props.csrf}>
      <form method="post" action={props.action}>
        <p>{props.question}</p>
        {props.fields
          .filter(([name]) => name !== 'confirmed')
          .map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
        <input type="hidden" name="confirmed" value="1" />
        <div class="actions">
          <button type="submit" class="primary">
            {props.yes}
          </button>
          <a class="button" href={props.back}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  )
}
