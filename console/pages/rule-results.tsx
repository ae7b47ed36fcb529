/** @jsxImportSource hono/jsx */
/**
 * @module A rule's results: totals with the holdout comparison (GET /v1/admin/stats), a daily
 * chart of delivered / shown / clicked / converted for the last 30 days (GET
 * /v1/admin/stats/:id/daily) drawn as inline SVG with the same figures in a table for screen
 * readers, and the CSV export of those days.
 */
import type { ApiResult, DailyView, RuleStats, RuleView, StaffView } from '../admin-client'
import { formatLift, formatRate } from '../format'
import { Layout, StatusBadge } from '../layout'

export const SERIES = ['delivered', 'shown', 'clicked', 'converted'] as const
const COLOURS: Record<(typeof SERIES)[number], string> = {
  delivered: '#0b57d0',
  shown: '#7b1fa2',
  clicked: '#ef6c00',
  converted: '#2e7d32',
}

const CSV_COLUMNS = [
  'day',
  'delivered',
  'holdout',
  'shown',
  'clicked',
  'dismissed',
  'converted',
  'holdoutConverted',
] as const

/**
 * The daily figures as CSV (RFC 4180, header row, one line per UTC day).
 * @example resultsCsv(daily) // "day,delivered,…\r\n2026-11-27,3,…\r\n"
 */
export function resultsCsv(daily: DailyView): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const day of daily.days) {
    lines.push(CSV_COLUMNS.map((c) => String(day[c])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

function Chart(props: { daily: DailyView }) {
  const days = props.daily.days
  const width = 720
  const height = 240
  const pad = { left: 40, right: 12, top: 12, bottom: 28 }
  const max = Math.max(1, ...days.flatMap((d) => SERIES.map((s) => d[s])))
  const x = (i: number) =>
    pad.left + (days.length <= 1 ? 0 : (i * (width - pad.left - pad.right)) / (days.length - 1))
  const y = (v: number) => pad.top + (1 - v / max) * (height - pad.top - pad.bottom)
  const total = (s: (typeof SERIES)[number]) => days.reduce((sum, d) => sum + d[s], 0)
  const label = `Daily offers of the last ${days.length} days: ${SERIES.map((s) => `${total(s)} ${s}`).join(', ')}.`
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        <line x1={pad.left} y1={y(0)} x2={width - pad.right} y2={y(0)} stroke="#8a939e" />
        <line x1={pad.left} y1={y(max)} x2={width - pad.right} y2={y(max)} stroke="#e1e4e8" />
        <text x={pad.left - 6} y={y(max) + 4} text-anchor="end" font-size="12" fill="#57606a">
          {max}
        </text>
        <text x={pad.left - 6} y={y(0) + 4} text-anchor="end" font-size="12" fill="#57606a">
          0
        </text>
        {days.length > 0 && (
          <>
            <text x={x(0)} y={height - 8} font-size="12" fill="#57606a">
              {days[0]?.day}
            </text>
            <text
              x={x(days.length - 1)}
              y={height - 8}
              text-anchor="end"
              font-size="12"
              fill="#57606a"
            >
              {days[days.length - 1]?.day}
            </text>
          </>
        )}
        {SERIES.map((s) => (
          <polyline
            fill="none"
            stroke={COLOURS[s]}
            stroke-width="2"
            points={days.map((d, i) => `${x(i).toFixed(1)},${y(d[s]).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {SERIES.map((s) => (
            <li>
              <span class={`sw ${s}`} />
              {s}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  )
}

export function RuleResultsPage(props: {
  staff: StaffView
  csrf: string
  rule: RuleView
  daily: ApiResult<DailyView>
  totals?: RuleStats
}) {
  const { rule, daily, totals: t } = props
  return (
    <Layout title={`Results of “${rule.name}”`} staff={props.staff} csrf={props.csrf}>
      <div class="actions">
        <StatusBadge status={rule.status} />
        <a href={`/console/rules/${rule.id}`}>Back to the rule</a>
        <a class="button" href={`/console/rules/${rule.id}/results.csv`} download>
          Download CSV (last 30 days)
        </a>
      </div>
      <h2>Since the rule started</h2>
      <dl class="figures">
        <div>
          <dt>Delivered</dt>
          <dd data-total="delivered">{t?.delivered ?? 0}</dd>
        </div>
        <div>
          <dt>Shown</dt>
          <dd>{t?.shown ?? 0}</dd>
        </div>
        <div>
          <dt>Clicked</dt>
          <dd>{t?.clicked ?? 0}</dd>
        </div>
        <div>
          <dt>Converted</dt>
          <dd>{t?.converted ?? 0}</dd>
        </div>
        <div>
          <dt>Click rate (of shown)</dt>
          <dd>{formatRate(t?.clickRate)}</dd>
        </div>
        <div>
          <dt>Conversion (offer sent)</dt>
          <dd>{formatRate(t?.conversionRate)}</dd>
        </div>
        <div>
          <dt>Holdout shoppers</dt>
          <dd>{t?.holdout ?? 0}</dd>
        </div>
        <div>
          <dt>Conversion (holdout)</dt>
          <dd>{formatRate(t?.holdoutConversionRate)}</dd>
        </div>
        <div>
          <dt>Lift over holdout</dt>
          <dd>{formatLift(t?.lift)}</dd>
        </div>
      </dl>
      {rule.holdoutPercent === 0 && (
        <p class="hint">
          This rule has no holdout, so there is nothing to compare with: set a holdout % in the rule
          to measure the lift.
        </p>
      )}
      <h2>Per day (UTC)</h2>
      {daily.ok ? (
        <>
          <Chart daily={daily.data} />
          <details>
            <summary>The figures as a table</summary>
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {SERIES.map((s) => (
                    <th scope="col" class="num">
                      {s}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {daily.data.days.map((d) => (
                  <tr>
                    <td data-label="Day">{d.day}</td>
                    {SERIES.map((s) => (
                      <td data-label={s} class="num">
                        {d[s]}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : (
        <p class="notice bad">Could not load the daily figures: {daily.error.message}</p>
      )}
    </Layout>
  )
}
