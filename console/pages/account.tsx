/** @jsxImportSource hono/jsx */
/**
 * @module The signed-in person's own account (any role): change their password (current + new,
 * twice; a refusal is shown next to the field, and no password is ever written back into the
 * page; "Also revoke my API tokens" is ticked unless they untick it), and their API tokens for
 * scripts — name, created, last used, expires, state — with revoke, and a form to make one
 * (shown once, like a rotated secret).
 */
import { MIN_PASSWORD_LENGTH } from '../../runtime/passwords'
import type { StaffView, TokenView } from '../admin-client'
import { formatTime } from '../format'
import { Layout, type Notice } from '../layout'

/** Field → why it was refused, for the password form. */
export type PasswordErrors = Partial<
  Record<'currentPassword' | 'newPassword' | 'confirmPassword', string>
>

const STATE_WORDS: Record<TokenView['state'], string> = {
  active: 'active',
  expired: 'expired',
  revoked: 'revoked',
}

function PasswordField(props: {
  id: string
  label: string
  autocomplete: string
  error?: string
  hint?: string
}) {
  const describedBy = [props.hint && `${props.id}-hint`, props.error && `${props.id}-error`]
    .filter(Boolean)
    .join(' ')
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type="password"
        autocomplete={props.autocomplete}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
      />
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  )
}

export function AccountPage(props: {
  staff: StaffView
  csrf: string
  tokenDays?: { default: number; min: number; max: number }
  tokens?: TokenView[]
  tokensError?: string
  passwordErrors?: PasswordErrors
  /** The "Also revoke my API tokens" box: ticked unless a refused post had it unticked. */
  revokeTokens?: boolean
  made?: { token: string; name: string; expiresAt: string }
  newToken?: { name: string; days: string; errors: { name?: string; days?: string } }
  notice?: Notice
}) {
  const csrf = <input type="hidden" name="_csrf" value={props.csrf} />
  const errors = props.passwordErrors ?? {}
  const tokenErrors = props.newToken?.errors ?? {}
  return (
    <Layout title="Your account" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      {props.made && (
        <div class="notice good" role="status">
          <p>
            Token "{props.made.name}", valid until {formatTime(props.made.expiresAt)}. Shown only
            once — copy it into your script now: <code data-token="">{props.made.token}</code>
          </p>
        </div>
      )}
      <p>
        {props.staff.email} · {props.staff.role} · site <code>{props.staff.siteId}</code>
      </p>

      <h2>Change your password</h2>
      <form method="post" action="/console/account/password" novalidate data-password-form="">
        {csrf}
        <input
          type="email"
          name="username"
          autocomplete="username"
          value={props.staff.email}
          hidden
          readonly
        />
        <PasswordField
          id="currentPassword"
          label="Current password"
          autocomplete="current-password"
          error={errors.currentPassword}
        />
        <PasswordField
          id="newPassword"
          label="New password"
          autocomplete="new-password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters. Everywhere else you are signed in is signed out; this browser stays signed in with a new session.`}
          error={errors.newPassword}
        />
        <PasswordField
          id="confirmPassword"
          label="New password again"
          autocomplete="new-password"
          error={errors.confirmPassword}
        />
        <div class="field">
          <label>
            <input
              type="checkbox"
              name="revokeTokens"
              value="1"
              checked={props.revokeTokens ?? true}
              aria-describedby="revokeTokens-hint"
            />{' '}
            Also revoke my API tokens
          </label>
          <p class="hint" id="revokeTokens-hint">
            Leave it ticked if someone else may know your password: scripts using your tokens stop
            working and need new ones. Untick it for a routine change.
          </p>
        </div>
        <button type="submit" class="primary">
          Change password
        </button>
      </form>

      <h2>Your API tokens</h2>
      <p class="hint">
        For scripts: send one as <code>Authorization: Bearer ntk_…</code>. A token acts with your
        role and stops working when it expires or is revoked.
      </p>
      {props.tokensError && <p class="notice bad">{props.tokensError}</p>}
      {props.tokens && props.tokens.length === 0 && <p>You have no API tokens.</p>}
      {props.tokens && props.tokens.length > 0 && (
        <table class="cards">
          <caption class="sr-only">Your API tokens, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((t) => (
              <tr data-token-id={t.id}>
                <td data-label="Name">{t.name}</td>
                <td data-label="Created">{formatTime(t.createdAt)}</td>
                <td data-label="Last used">{t.lastUsedAt ? formatTime(t.lastUsedAt) : 'never'}</td>
                <td data-label="Expires">{formatTime(t.expiresAt)}</td>
                <td data-label="State">{STATE_WORDS[t.state]}</td>
                <td data-label="Actions">
                  {t.state === 'active' && (
                    <form
                      method="post"
                      action={`/console/account/tokens/${t.id}/revoke`}
                      data-confirm={`Revoke the token "${t.name}"? Scripts using it stop working at once.`}
                    >
                      {csrf}
                      <button type="submit" class="danger">
                        Revoke<span class="sr-only"> {t.name}</span>
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Make a token</h3>
      <form method="post" action="/console/account/tokens" class="filters" novalidate>
        {csrf}
        <div class="field">
          <label for="token-name">Name</label>
          <input
            id="token-name"
            name="name"
            placeholder="nightly export"
            value={props.newToken?.name ?? ''}
            aria-invalid={tokenErrors.name ? 'true' : undefined}
            aria-describedby={tokenErrors.name ? 'token-name-error' : undefined}
          />
          {tokenErrors.name && (
            <p class="error" id="token-name-error">
              {tokenErrors.name}
            </p>
          )}
        </div>
        <div class="field">
          <label for="token-days">Valid for (days)</label>
          <input
            id="token-days"
            name="days"
            type="number"
            step="1"
            min={props.tokenDays?.min}
            max={props.tokenDays?.max}
            value={props.newToken?.days ?? String(props.tokenDays?.default ?? '')}
            aria-invalid={tokenErrors.days ? 'true' : undefined}
            aria-describedby={tokenErrors.days ? 'token-days-error' : undefined}
          />
          {tokenErrors.days && (
            <p class="error" id="token-days-error">
              {tokenErrors.days}
            </p>
          )}
        </div>
        <button type="submit">Make a token</button>
      </form>
    </Layout>
  )
}
