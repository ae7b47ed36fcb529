/** @jsxImportSource hono/jsx */
/**
 * @module The sign-in page: email and password, posted to the console, which signs in through
 * POST /v1/admin/login and passes the session cookie on. A refused sign-in keeps the email (never
 * the password) and says why in the API's words; an email with accounts on several sites also
 * gets a site choice. A rule being written when the session ended rides along in hidden fields
 * and opens again, unsaved, after sign-in.
 */
import { Layout, type Notice } from '../layout'

export function SignInPage(props: {
  email?: string
  next?: string
  error?: string
  sites?: string[]
  notice?: Notice
  /** The rule editor's fields, kept through sign-in when a session ended mid-edit. */
  carry?: [string, string][]
}) {
  const errorId = props.error ? 'signin-error' : undefined
  return (
    <Layout title="Sign in" notice={props.notice}>
      <form class="signin" method="post" action="/console/sign-in" aria-describedby={errorId}>
        {props.error && (
          <p id="signin-error" class="notice bad" role="alert">
            {props.error}
          </p>
        )}
        <input type="hidden" name="next" value={props.next ?? ''} />
        {props.carry?.map(([name, value]) => (
          <input type="hidden" name={`carry:${name}`} value={value} />
        ))}
        <div class="field">
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={props.email ?? ''}
            aria-invalid={props.error ? 'true' : undefined}
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            aria-invalid={props.error ? 'true' : undefined}
          />
        </div>
        {props.sites && props.sites.length > 0 && (
          <div class="field">
            <label for="siteId">Site</label>
            <select id="siteId" name="siteId">
              {props.sites.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </div>
        )}
        <button type="submit" class="primary">
          Sign in
        </button>
        <p class="hint">
          No account yet? An admin makes one with <code>nudge staff create</code>.
        </p>
      </form>
    </Layout>
  )
}
