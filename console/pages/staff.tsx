/** @jsxImportSource hono/jsx */
/**
 * @module Staff management (admins): who can sign in to this site's console and with which role
 * — viewer (reads), editor (also changes rules), admin (also staff and settings). Invite with a
 * role (the first password is shown once, to pass on), change a role, remove an account.
 */
import type { StaffListResponse, StaffView } from '../admin-client'
import { Layout, type Notice } from '../layout'

const ROLES = ['viewer', 'editor', 'admin'] as const
const ROLE_HINTS: Record<string, string> = {
  viewer: 'viewer: reads rules and results',
  editor: 'editor: also writes, activates and pauses rules',
  admin: 'admin: also manages staff and site settings',
}

export function StaffPage(props: {
  staff: StaffView
  csrf: string
  list?: StaffListResponse['staff']
  invited?: { email: string; password: string }
  invite?: { email: string; role: string; error?: string }
  notice?: Notice
}) {
  const inviteError = props.invite?.error
  return (
    <Layout title="Staff" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      {props.invited && (
        <div class="notice good" role="status">
          <p>
            {props.invited.email} can now sign in at /console with this first password, shown only
            once: <code data-password="">{props.invited.password}</code>
          </p>
        </div>
      )}
      <ul class="hint">
        {ROLES.map((r) => (
          <li>{ROLE_HINTS[r]}</li>
        ))}
      </ul>
      {props.list && (
        <table class="cards">
          <caption class="sr-only">Accounts of this site</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.list.map((s) => {
              const self = s.email === props.staff.email
              return (
                <tr data-staff={s.email}>
                  <td data-label="Email">{s.email}</td>
                  <td data-label="Role">
                    {self ? (
                      `${s.role} (you)`
                    ) : (
                      <form method="post" action={`/console/staff/${s.id}/role`} class="row">
                        <input type="hidden" name="_csrf" value={props.csrf} />
                        <label class="sr-only" for={`role-${s.id}`}>
                          Role of {s.email}
                        </label>
                        <select id={`role-${s.id}`} name="role">
                          {ROLES.map((r) => (
                            <option value={r} selected={r === s.role}>
                              {r}
                            </option>
                          ))}
                        </select>
                        <button type="submit">
                          Change<span class="sr-only"> role of {s.email}</span>
                        </button>
                      </form>
                    )}
                  </td>
                  <td data-label="Actions">
                    {!self && (
                      <form
                        method="post"
                        action={`/console/staff/${s.id}/remove`}
                        data-confirm={`Remove ${s.email}? They are signed out at once.`}
                      >
                        <input type="hidden" name="_csrf" value={props.csrf} />
                        <button type="submit" class="danger">
                          Remove<span class="sr-only"> {s.email}</span>
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
      <h2>Invite someone</h2>
      <form method="post" action="/console/staff" class="filters" novalidate>
        <input type="hidden" name="_csrf" value={props.csrf} />
        <div class="field">
          <label for="invite-email">Email</label>
          <input
            id="invite-email"
            name="email"
            type="email"
            value={props.invite?.email ?? ''}
            aria-invalid={inviteError ? 'true' : undefined}
            aria-describedby={inviteError ? 'invite-email-error' : undefined}
          />
          {inviteError && (
            <p class="error" id="invite-email-error">
              {inviteError}
            </p>
          )}
        </div>
        <div class="field">
          <label for="invite-role">Role</label>
          <select id="invite-role" name="role">
            {ROLES.map((r) => (
              <option value={r} selected={r === (props.invite?.role ?? 'viewer')}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary">
          Invite
        </button>
      </form>
    </Layout>
  )
}
