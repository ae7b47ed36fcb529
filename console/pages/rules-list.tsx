/** @jsxImportSource hono/jsx */
/**
 * @module The rules list: every rule of the site with its status, priority, trigger, schedule
 * and live figures (GET /v1/admin/stats), a status filter, and pause / activate buttons that ask
 * for confirmation first. Viewers see the figures and no buttons that change anything.
 */
import type { RuleStats, RuleView, StaffView } from '../admin-client'
import { formatDuration, formatLift, formatRate, formatTime } from '../format'
import { Layout, type Notice, StatusBadge } from '../layout'

export const STATUS_FILTERS = ['', 'active', 'paused', 'draft', 'archived'] as const

/** "ClickedProduct", or "AddedToCart, after 30m unless OrderCompleted". */
export function triggerText(trigger: RuleView['trigger']): string {
  const delay = trigger.delay === undefined ? '' : `, after ${formatDuration(trigger.delay)}`
  const unless = trigger.unless === undefined ? '' : ` unless ${trigger.unless}`
  return `${trigger.event}${delay}${unless}`
}

export function scheduleText(schedule: RuleView['schedule']): string {
  if (!schedule.start && !schedule.end) {
    return 'always'
  }
  const from = schedule.start ? `from ${formatTime(schedule.start)}` : ''
  const to = schedule.end ? `until ${formatTime(schedule.end)}` : ''
  return [from, to].filter(Boolean).join(' ')
}

/** A small line of offers delivered per day; a flat line at zero without data. */
export function Trend(props: { days: number[] | undefined; span: number }) {
  const days = props.days ?? Array.from({ length: props.span }, () => 0)
  const max = Math.max(1, ...days)
  const total = days.reduce((a, b) => a + b, 0)
  const points = days
    .map(
      (v, i) =>
        `${((i * 100) / Math.max(1, days.length - 1)).toFixed(1)},${(22 - (v / max) * 20).toFixed(1)}`,
    )
    .join(' ')
  return (
    <svg
      class="spark"
      viewBox="0 0 100 24"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${total} delivered in the last ${days.length} days`}
    >
      <polyline fill="none" stroke="#0b57d0" stroke-width="2" points={points} />
    </svg>
  )
}

/** The pause / activate button of one rule, a form that works without the script. */
export function StatusAction(props: { rule: RuleView; csrf: string; back: string }) {
  const { rule } = props
  const activate = rule.status !== 'active'
  const action = activate ? 'activate' : 'pause'
  const question = activate
    ? `Activate “${rule.name}”? Shoppers who match will start getting this offer.`
    : `Pause “${rule.name}”? Shoppers stop getting this offer until it is activated again.`
  return (
    <form
      method="post"
      action={`/console/rules/${rule.id}/${action}`}
      data-confirm={question}
      class="inline"
    >
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class={activate ? 'primary' : 'danger'}>
        {activate ? 'Activate' : 'Pause'}
        <span class="sr-only"> {rule.name}</span>
      </button>
    </form>
  )
}

export function RulesListPage(props: {
  staff: StaffView
  csrf: string
  rules: RuleView[]
  stats: RuleStats[]
  /** Delivered per day, oldest first, for rules that delivered anything lately. */
  trends?: Map<string, number[]>
  filter: string
  notice?: Notice
}) {
  const byRule = new Map(props.stats.map((s) => [s.ruleId, s]))
  const canEdit = props.staff.role !== 'viewer'
  const back = `/console/rules${props.filter ? `?status=${props.filter}` : ''}`
  return (
    <Layout title="Offer rules" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      <form class="filters" method="get" action="/console/rules">
        <div class="field">
          <label for="status">Status</label>
          <select id="status" name="status" data-autosubmit="">
            {STATUS_FILTERS.map((s) => (
              <option value={s} selected={s === props.filter}>
                {s === '' ? 'All but archived' : s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="js-hide">
          Show
        </button>
        {canEdit && (
          <a class="button primary" href="/console/rules/new">
            New rule
          </a>
        )}
      </form>
      <div id="rules" data-autorefresh="30000">
        {props.rules.length === 0 ? (
          <p>
            No rules here yet.
            {canEdit && (
              <>
                {' '}
                <a href="/console/rules/new">Write the first one</a>.
              </>
            )}
          </p>
        ) : (
          <table class="cards">
            <caption class="sr-only">Rules with their figures since they started</caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Priority
                </th>
                <th scope="col">Trigger</th>
                <th scope="col">Schedule</th>
                <th scope="col">Trend (14 days)</th>
                <th scope="col" class="num">
                  Delivered
                </th>
                <th scope="col" class="num">
                  Shown
                </th>
                <th scope="col" class="num">
                  Clicked
                </th>
                <th scope="col" class="num">
                  Converted
                </th>
                <th scope="col" class="num">
                  CTR
                </th>
                <th scope="col" class="num">
                  Lift
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {props.rules.map((rule) => {
                const s = byRule.get(rule.id)
                return (
                  <tr data-rule={rule.id}>
                    <td data-label="Rule">
                      <a href={`/console/rules/${rule.id}`}>{rule.name}</a>
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={rule.status} />
                    </td>
                    <td data-label="Priority" class="num">
                      {rule.priority}
                    </td>
                    <td data-label="Trigger">{triggerText(rule.trigger)}</td>
                    <td data-label="Schedule">{scheduleText(rule.schedule)}</td>
                    <td data-label="Trend (14 days)">
                      <Trend days={props.trends?.get(rule.id)} span={14} />
                    </td>
                    <td data-label="Delivered" class="num" data-figure="delivered">
                      {s?.delivered ?? 0}
                    </td>
                    <td data-label="Shown" class="num">
                      {s?.shown ?? 0}
                    </td>
                    <td data-label="Clicked" class="num">
                      {s?.clicked ?? 0}
                    </td>
                    <td data-label="Converted" class="num">
                      {s?.converted ?? 0}
                    </td>
                    <td data-label="CTR" class="num">
                      {formatRate(s?.clickRate)}
                    </td>
                    <td data-label="Lift" class="num">
                      {formatLift(s?.lift)}
                    </td>
                    <td data-label="Actions">
                      <div class="actions">
                        {canEdit && rule.status !== 'archived' && (
                          <StatusAction rule={rule} csrf={props.csrf} back={back} />
                        )}
                        <a href={`/console/rules/${rule.id}/results`}>
                          Results<span class="sr-only"> of {rule.name}</span>
                        </a>
                        <a href={`/console/rules/${rule.id}/preview`}>
                          Preview<span class="sr-only"> of {rule.name}</span>
                        </a>
                      </div>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        )}
      </div>
    </Layout>
  )
}
