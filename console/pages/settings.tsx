/** @jsxImportSource hono/jsx */
/**
 * @module Site settings (admins): the pages allowed to send events (origins), the keys (rotate
 * the secret, or both keys; the new secret is shown once), and the engagement score's weight per
 * event type (blank = Nudge's default for that type).
 */
import type { SettingsResponse, StaffView } from '../admin-client'
import { Layout, type Notice } from '../layout'

export function SettingsPage(props: {
  staff: StaffView
  csrf: string
  settings?: SettingsResponse
  rotated?: { writeKey: string; secret: string }
  origin?: { value: string; error: string }
  weights?: { values: Record<string, string>; errors: Record<string, string> }
  halfLife?: { value: string; error: string }
  notice?: Notice
}) {
  const s = props.settings
  const csrf = <input type="hidden" name="_csrf" value={props.csrf} />
  const weightValues =
    props.weights?.values ??
    Object.fromEntries(Object.entries(s?.eventWeights ?? {}).map(([k, v]) => [k, String(v)]))
  return (
    <Layout title="Site settings" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      {props.rotated && (
        <div class="notice good" role="status">
          <p>
            New keys. Write key: <code>{props.rotated.writeKey}</code>. Secret, shown only once —
            put it in your store's backend now: <code data-secret="">{props.rotated.secret}</code>
          </p>
        </div>
      )}
      {s && (
        <>
          <p>
            {s.site.name} · site <code>{s.site.id}</code> · time zone {s.timezone} · write key{' '}
            <code>{s.site.writeKey}</code>
          </p>
          <h2>Allowed page origins</h2>
          <ul>
            {s.site.allowedOrigins.map((o) => (
              <li class="row" data-origin={o}>
                <code>{o}</code>
                <form method="post" action="/console/settings/origins/remove">
                  {csrf}
                  <input type="hidden" name="origin" value={o} />
                  <button type="submit" class="link">
                    Remove<span class="sr-only"> {o}</span>
                  </button>
                </form>
              </li>
            ))}
          </ul>
          <form method="post" action="/console/settings/origins" class="filters" novalidate>
            {csrf}
            <div class="field">
              <label for="origin">Add an origin</label>
              <input
                id="origin"
                name="origin"
                placeholder="https://shop.example or http://localhost:*"
                value={props.origin?.value ?? ''}
                aria-invalid={props.origin ? 'true' : undefined}
                aria-describedby={props.origin ? 'origin-error' : undefined}
              />
              {props.origin && (
                <p class="error" id="origin-error">
                  {props.origin.error}
                </p>
              )}
            </div>
            <button type="submit">Allow</button>
          </form>
          <h2>Keys</h2>
          <div class="actions">
            <form
              method="post"
              action="/console/settings/rotate"
              data-confirm="Replace the secret? Your store's backend must switch to the new one at once."
            >
              {csrf}
              <input type="hidden" name="what" value="secret" />
              <button type="submit" class="danger">
                Rotate the secret
              </button>
            </form>
            <form
              method="post"
              action="/console/settings/rotate"
              data-confirm="Replace both keys? Every page must load the snippet with the new write key."
            >
              {csrf}
              <input type="hidden" name="what" value="keys" />
              <button type="submit" class="danger">
                Rotate both keys
              </button>
            </form>
          </div>
          <h2>Engagement weights</h2>
          <form method="post" action="/console/settings/weights" novalidate>
            {csrf}
            <p class="hint">
              Points each event type adds to a shopper's engagement score; leave blank for the
              default.
            </p>
            <div class="grid three">
              {s.eventTypes.map((t) => (
                <div class="field">
                  <label for={`w-${t}`}>{t}</label>
                  <input
                    id={`w-${t}`}
                    name={`weights.${t}`}
                    type="number"
                    step="any"
                    value={weightValues[t] ?? ''}
                    aria-invalid={props.weights?.errors[t] ? 'true' : undefined}
                    aria-describedby={props.weights?.errors[t] ? `w-${t}-error` : undefined}
                  />
                  {props.weights?.errors[t] && (
                    <p class="error" id={`w-${t}-error`}>
                      {props.weights.errors[t]}
                    </p>
                  )}
                </div>
              ))}
            </div>
            <button type="submit" class="primary">
              Save weights
            </button>
          </form>
          <h2>How fast engagement fades</h2>
          <form method="post" action="/console/settings/half-life" novalidate>
            {csrf}
            <div class="field">
              <label for="half-life">
                Half-life of the engagement score and interests, in hours
              </label>
              <input
                id="half-life"
                name="hours"
                type="number"
                step="1"
                min="1"
                placeholder="168 (a week, the default)"
                value={
                  props.halfLife?.value ?? (s.halfLifeHours === null ? '' : String(s.halfLifeHours))
                }
                aria-invalid={props.halfLife ? 'true' : undefined}
                aria-describedby={props.halfLife ? 'half-life-error' : 'half-life-hint'}
              />
              <p class="hint" id="half-life-hint">
                After this long a shopper's score counts half. Blank for the default week. Applies
                to events from the next minute on.
              </p>
              {props.halfLife && (
                <p class="error" id="half-life-error">
                  {props.halfLife.error}
                </p>
              )}
            </div>
            <button type="submit" class="primary">
              Save half-life
            </button>
          </form>
        </>
      )}
    </Layout>
  )
}
