/** @jsxImportSource hono/jsx */
/**
 * @module Preview before activation: how many current profiles the rule matches now, with a
 * sample and each shopper's reasons (POST /v1/admin/rules/:id/preview), and a "test on a
 * profile" box: whether the rule's conditions pass for that one shopper now, with the reasons
 * (POST /v1/admin/rules/:id/test, a dry run that works for drafts too), and their latest decision
 * traces (GET /v1/admin/decisions/:shopper), this rule's line first — the Unleash-playground
 * answer to "why did (not) my rule fire?".
 */
import type {
  ApiResult,
  DecisionTrace,
  PreviewView,
  RuleTestResponse,
  RuleView,
  StaffView,
} from '../admin-client'
import { Layout, type Notice, StatusBadge } from '../layout'
import { StatusAction } from './rules-list'

function Traces(props: { rule: RuleView; decisions: DecisionTrace[] }) {
  if (props.decisions.length === 0) {
    return (
      <p>
        No decisions recorded for this shopper yet (traces are kept for the last 20 events that
        could trigger a rule).
      </p>
    )
  }
  return (
    <ol class="traces">
      {props.decisions.map((trace) => {
        const mine = trace.rules.find((r) => r.ruleId === props.rule.id)
        const others = trace.rules.filter((r) => r.ruleId !== props.rule.id)
        return (
          <li>
            <p>
              <strong>{trace.type}</strong> at{' '}
              {new Date(trace.at).toISOString().slice(0, 19).replace('T', ' ')} UTC → decision:{' '}
              <strong>{trace.decision}</strong>
            </p>
            <p>
              This rule:{' '}
              {mine ? (
                <strong>{mine.result}</strong>
              ) : (
                <span class="muted">
                  not considered (another trigger, or not among the rules listed)
                </span>
              )}
            </p>
            {mine?.why && (
              <ul class="why">
                {mine.why.map((line) => (
                  <li>{line}</li>
                ))}
              </ul>
            )}
            {others.length > 0 && (
              <p class="muted">
                Other rules: {others.map((r) => `${r.name} (${r.result})`).join('; ')}
              </p>
            )}
          </li>
        )
      })}
    </ol>
  )
}

export function RulePreviewPage(props: {
  staff: StaffView
  csrf: string
  rule: RuleView
  preview: ApiResult<PreviewView>
  shopper: string
  decisions?: ApiResult<{ shopper: string; decisions: DecisionTrace[] }>
  /** The rule's conditions for this one shopper now (POST /v1/admin/rules/:id/test). */
  dryRun?: ApiResult<RuleTestResponse>
  notice?: Notice
}) {
  const { rule, preview } = props
  return (
    <Layout
      title={`Preview “${rule.name}”`}
      staff={props.staff}
      csrf={props.csrf}
      notice={props.notice}
    >
      <div class="actions">
        <StatusBadge status={rule.status} />
        {props.staff.role !== 'viewer' && rule.status !== 'archived' && (
          <StatusAction rule={rule} csrf={props.csrf} back={`/console/rules/${rule.id}/preview`} />
        )}
        <a href={`/console/rules/${rule.id}`}>Back to the rule</a>
      </div>
      <h2>Who it matches now</h2>
      {preview.ok ? (
        <>
          <p data-preview-count="">
            <strong>{preview.data.matching}</strong> of {preview.data.scanned} current shopper
            profiles match now (each one's latest {rule.trigger.event} taken as happening now).
          </p>
          {preview.data.sample.length > 0 && (
            <table class="cards">
              <caption class="sr-only">A sample of shoppers with the reasons</caption>
              <thead>
                <tr>
                  <th scope="col">Shopper</th>
                  <th scope="col">Result</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {preview.data.sample.map((s) => (
                  <tr>
                    <td data-label="Shopper">
                      <a href={`?shopper=${encodeURIComponent(s.shopper)}#test`}>{s.shopper}</a>
                    </td>
                    <td data-label="Result">{s.passed ? '✓ matches' : '✗ does not match'}</td>
                    <td data-label="Why">
                      <ul class="why">
                        {s.why.map((line) => (
                          <li>{line}</li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : (
        <p class="notice bad">Could not preview the rule: {preview.error.message}</p>
      )}
      <h2 id="test">Test on a profile</h2>
      <form method="get" action="#test" class="filters">
        <div class="field">
          <label for="shopper">Shopper</label>
          <input
            id="shopper"
            name="shopper"
            value={props.shopper}
            placeholder="u:42 or a:anonymous-id"
            aria-describedby="shopper-hint"
          />
          <p class="hint" id="shopper-hint">
            u:&lt;user id&gt; for a signed-in shopper, a:&lt;anonymous id&gt; otherwise.
          </p>
        </div>
        <button type="submit">Show decisions</button>
      </form>
      {props.dryRun?.ok && (
        <section aria-labelledby="dry-run-title">
          <h3 id="dry-run-title">Would the conditions pass now?</h3>
          <p data-dry-run="">
            <strong>{props.dryRun.data.passed ? '✓ yes' : '✗ no'}</strong>
            {props.dryRun.data.trigger &&
              ` (their latest ${props.dryRun.data.trigger.type} taken as happening now; limits, audience and holdout not applied)`}
          </p>
          <ul class="why">
            {props.dryRun.data.why.map((line) => (
              <li>{line}</li>
            ))}
          </ul>
          <h3>Latest decisions for this shopper</h3>
        </section>
      )}
      {props.decisions &&
        (props.decisions.ok ? (
          <Traces rule={rule} decisions={props.decisions.data.decisions} />
        ) : (
          <p class="notice bad" role="alert">
            {props.decisions.error.issues?.map((i) => i.reason).join(' ') ||
              props.decisions.error.message}
          </p>
        ))}
    </Layout>
  )
}
