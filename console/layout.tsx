/** @jsxImportSource hono/jsx */
/**
 * @module The page shell every console page shares: head (stylesheet, the enhancement script,
 * the session's CSRF token in a meta tag for it), the top bar (who is signed in, sign-out) and a
 * notice area. Pages render their first view from one browser request; the script only enhances.
 */
import type { Child } from 'hono/jsx'
import type { StaffView } from './admin-client'

export type Notice = { kind: 'good' | 'bad'; text: string }

export function Layout(props: {
  title: string
  staff?: StaffView
  csrf?: string
  notice?: Notice
  children?: Child
}) {
  const { staff, csrf } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Nudge console`}</title>
        {csrf && <meta name="csrf-token" content={csrf} />}
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/console/rules">
            Nudge console
          </a>
          {staff && (
            <nav aria-label="Console">
              <a href="/console/rules">Rules</a>
              {staff.role !== 'viewer' && <a href="/console/rules/new">New rule</a>}
              <a href="/console/health">Health</a>
              <a href="/console/activity">Activity</a>
              {staff.role === 'admin' && <a href="/console/staff">Staff</a>}
              {staff.role === 'admin' && <a href="/console/settings">Settings</a>}
              <a href="/console/account" class="who" title="Your account: password and API tokens">
                {staff.email} ({staff.role})
              </a>
              <form method="post" action="/console/sign-out">
                <input type="hidden" name="_csrf" value={csrf ?? ''} />
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            </nav>
          )}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          <div id="notice" role="status" aria-live="polite">
            {props.notice && <p class={`notice ${props.notice.kind}`}>{props.notice.text}</p>}
          </div>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/** A status as a coloured badge, with the word itself (colour is never the only signal). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge ${props.status}`}>{props.status}</span>
}
