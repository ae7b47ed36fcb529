/** @jsxImportSource hono/jsx */
/**
 * @module The health page (GET /v1/admin/health): can the pipeline carry a rule's offers right
 * now? A verdict first, in words, then ingest, the event log per partition, the queues with their
 * failed jobs (admins can put them back), and the live sockets with push latency. The script
 * refreshes the figures every 10 seconds in place.
 */
import type { HealthResponse, StaffView } from '../admin-client'
import { Layout, type Notice } from '../layout'

/** Lag (entries waiting for the pump) above which a partition counts as behind. */
const LAG_WARNING = 1000

/** What looks wrong, in words; empty when nothing does. */
export function healthWarnings(h: HealthResponse): string[] {
  const warnings: string[] = []
  for (const s of h.streams) {
    if (s.length > 0 && !s.pumpStarted) {
      warnings.push(
        `Partition ${s.partition} holds ${s.length} events but no pump has read it: are the workers running?`,
      )
    } else if (s.lag !== null && s.lag > LAG_WARNING) {
      warnings.push(
        `Partition ${s.partition} is ${s.lag} entries behind: the workers are not keeping up.`,
      )
    }
  }
  for (const q of h.queues) {
    if (q.failed > 0) {
      warnings.push(
        `${q.failed} ${q.name} job(s) failed for good: their events were not processed.`,
      )
    }
  }
  return warnings
}

function fmt(n: number | null, digits = 1): string {
  return n === null ? '–' : Number.isInteger(n) ? String(n) : n.toFixed(digits)
}

export function HealthPage(props: {
  staff: StaffView
  csrf: string
  health?: HealthResponse
  error?: string
  notice?: Notice
}) {
  const h = props.health
  const warnings = h ? healthWarnings(h) : []
  const admin = props.staff.role === 'admin'
  return (
    <Layout title="Pipeline health" staff={props.staff} csrf={props.csrf} notice={props.notice}>
      <div id="health" data-autorefresh="10000">
        {!h ? (
          <p class="notice bad" role="alert">
            Could not read the figures: {props.error}
          </p>
        ) : (
          <>
            {warnings.length === 0 ? (
              <p class="notice good">
                The pipeline looks healthy: events are read as they arrive and no job has failed. If
                a rule does not fire, preview it and test it on a shopper.
              </p>
            ) : (
              <div class="notice bad">
                <p>Something needs attention:</p>
                <ul>
                  {warnings.map((w) => (
                    <li>{w}</li>
                  ))}
                </ul>
              </div>
            )}
            <p class="muted">
              As of {h.at.slice(0, 19).replace('T', ' ')} UTC. Ingest and live figures are this api
              process's /metrics; the event log and queues are install-wide.
            </p>
            <h2>Ingest</h2>
            <dl class="figures">
              <div>
                <dt>Events per second</dt>
                <dd data-figure="rate">
                  {h.ingest.ratePerSecond === null ? 'measuring…' : fmt(h.ingest.ratePerSecond)}
                </dd>
              </div>
              <div>
                <dt>Average per second</dt>
                <dd>{fmt(h.ingest.averagePerSecond, 2)}</dd>
              </div>
              <div>
                <dt>Accepted</dt>
                <dd data-figure="accepted">{h.ingest.accepted}</dd>
              </div>
              <div>
                <dt>Rejected</dt>
                <dd>{h.ingest.rejected}</dd>
              </div>
              <div>
                <dt>Duplicates</dt>
                <dd>{h.ingest.duplicate}</dd>
              </div>
            </dl>
            <h2>Event log</h2>
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Partition</th>
                  <th scope="col" class="num">
                    Entries kept
                  </th>
                  <th scope="col" class="num">
                    Waiting for the pump
                  </th>
                  <th scope="col" class="num">
                    Being processed
                  </th>
                </tr>
              </thead>
              <tbody>
                {h.streams.map((s) => (
                  <tr data-partition={String(s.partition)}>
                    <td data-label="Partition">{s.partition}</td>
                    <td data-label="Entries kept" class="num">
                      {s.length}
                    </td>
                    <td data-label="Waiting for the pump" class="num" data-figure="lag">
                      {s.pumpStarted ? fmt(s.lag) : `${s.length} (no pump yet)`}
                    </td>
                    <td data-label="Being processed" class="num">
                      {s.pending}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Queues</h2>
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col" class="num">
                    Waiting
                  </th>
                  <th scope="col" class="num">
                    Active
                  </th>
                  <th scope="col" class="num">
                    Delayed
                  </th>
                  <th scope="col" class="num">
                    Failed
                  </th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {h.queues.map((q) => (
                  <tr data-queue={q.name}>
                    <td data-label="Queue">{q.name}</td>
                    <td data-label="Waiting" class="num">
                      {q.waiting}
                    </td>
                    <td data-label="Active" class="num">
                      {q.active}
                    </td>
                    <td data-label="Delayed" class="num">
                      {q.delayed}
                    </td>
                    <td data-label="Failed" class="num" data-figure="failed">
                      {q.failed}
                    </td>
                    <td data-label="Actions">
                      {admin && q.failed > 0 ? (
                        <form
                          method="post"
                          action="/console/health/retry"
                          data-confirm={`Put all ${q.failed} failed ${q.name} jobs back on the queue?`}
                        >
                          <input type="hidden" name="_csrf" value={props.csrf} />
                          <input type="hidden" name="queue" value={q.name} />
                          <button type="submit">
                            Retry failed<span class="sr-only"> {q.name} jobs</span>
                          </button>
                        </form>
                      ) : (
                        <span class="muted">–</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {admin &&
              h.queues
                .filter((q) => q.latestFailed.length > 0)
                .map((q) => (
                  <details>
                    <summary>Latest failed {q.name} jobs</summary>
                    <ul>
                      {q.latestFailed.map((j) => (
                        <li>
                          <code>{j.id}</code> ({j.failedAt ?? 'unknown time'}, {j.attempts}{' '}
                          attempts): {j.reason}
                        </li>
                      ))}
                    </ul>
                  </details>
                ))}
            <h2>Live offers</h2>
            <dl class="figures">
              <div>
                <dt>Open sockets</dt>
                <dd data-figure="connections">{h.live.connections}</dd>
              </div>
              <div>
                <dt>Offers pushed</dt>
                <dd>{h.live.pushes}</dd>
              </div>
              <div>
                <dt>Push latency, median</dt>
                <dd>{h.live.pushP50Ms === null ? '–' : `≤ ${h.live.pushP50Ms} ms`}</dd>
              </div>
              <div>
                <dt>Push latency, 95%</dt>
                <dd>{h.live.pushP95Ms === null ? '–' : `≤ ${h.live.pushP95Ms} ms`}</dd>
              </div>
            </dl>
          </>
        )}
      </div>
    </Layout>
  )
}
