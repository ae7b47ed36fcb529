/**
 * @module The console's only way to data: the admin API, called in process on the same Hono app
 * (`app.request`), as the signed-in person (their session cookie and CSRF token). The console
 * therefore sees exactly what a script with that person's role would see, and can do nothing
 * the API would refuse them.
 *
 * Contract: a 401 from any call throws `SignInNeeded` (the page handler turns it into a redirect
 * to the sign-in page); every other failure comes back as `{ ok: false, status, error }` with the
 * API's own message and field issues, for the page to show.
 */
import type { ErrorBody } from '../api/errors'
import type { HealthResponse } from '../api/routes/admin.health'
import type { PasswordChangeRequest, PasswordChangeResponse } from '../api/routes/admin.password'
import type { DailyAllResponse, DailyResultsResponse } from '../api/routes/admin.results'
import type { RuleTestResponse } from '../api/routes/admin.rule-test'
import type { present } from '../api/routes/admin.rules'
import type { SettingsResponse } from '../api/routes/admin.settings'
import type { InviteResponse, StaffListResponse } from '../api/routes/admin.staff'
import type { TokenCreateResponse, TokenListResponse, TokenView } from '../api/routes/admin.tokens'
import type { RuleSpec } from '../streams/rules'

/** A rule as the admin API answers it (spec fields, durations in milliseconds, plus meta). */
export type RuleView = ReturnType<typeof present> & RuleSpec

export type StaffView = { id: string; siteId: string; email: string; role: StaffRole }
export type StaffRole = 'viewer' | 'editor' | 'admin'

export type SessionView = { staff: StaffView; csrfToken?: string; expiresAt?: string }

/** GET /v1/admin/stats, one rule. */
export type RuleStats = {
  ruleId: string
  delivered: number
  holdout: number
  shown: number
  clicked: number
  dismissed: number
  converted: number
  holdoutConverted: number
  showRate: number | null
  clickRate: number | null
  conversionRate: number | null
  holdoutConversionRate: number | null
  lift: number | null
}

export type VersionView = { version: number; spec: unknown; createdBy: string; createdAt: string }

export type PreviewView = {
  scanned: number
  matching: number
  sample: { shopper: string; passed: boolean; why: string[] }[]
}

export type DecisionTrace = {
  at: number
  eventId: string
  type: string
  decision: string
  offerId?: string
  rules: { ruleId: string; version: number; name: string; result: string; why?: string[] }[]
  others?: Record<string, number>
}

/** GET /v1/admin/stats/:ruleId/daily (api/routes/admin.results.ts). */
export type DailyView = DailyResultsResponse

export type {
  HealthResponse,
  InviteResponse,
  PasswordChangeResponse,
  RuleTestResponse,
  SettingsResponse,
  StaffListResponse,
  TokenCreateResponse,
  TokenListResponse,
  TokenView,
}

/** GET /v1/admin/audit, one entry. */
export type AuditEntry = {
  id: number
  actor: string
  action: string
  subject: string
  detail: Record<string, unknown>
  at: string
}

export type ApiFailure = { ok: false; status: number; error: ErrorBody['error'] }
export type ApiResult<T> = { ok: true; status: number; data: T } | ApiFailure

/** Thrown on a 401: the session is missing or expired. */
export class SignInNeeded extends Error {
  override readonly name = 'SignInNeeded'
}

/** How the console reaches the app: `app.request` with an absolute URL. */
export type AppRequest = (url: string, init: RequestInit) => Response | Promise<Response>

/**
 * @example const api = createAdminClient(app.request, c.req.url, { cookie, csrf }); await api.rules()
 */
export function createAdminClient(
  request: AppRequest,
  origin: string,
  auth: { cookie: string; csrf?: string },
) {
  /** The API's answer, and its Set-Cookie (a password change replaces the session). */
  async function send<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ result: ApiResult<T>; setCookie: string | null }> {
    const headers: Record<string, string> = { cookie: auth.cookie, accept: 'application/json' }
    if (method !== 'GET' && auth.csrf) {
      headers['x-csrf-token'] = auth.csrf
    }
    if (body !== undefined) {
      headers['content-type'] = 'application/json'
    }
    const res = await request(new URL(path, origin).href, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    if (res.status === 401) {
      throw new SignInNeeded()
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    if (res.ok) {
      return {
        result: { ok: true, status: res.status, data: json as T },
        setCookie: res.headers.get('set-cookie'),
      }
    }
    const error = (json as Partial<ErrorBody> | undefined)?.error ?? {
      code: 'INTERNAL',
      message: `The admin API answered ${res.status}.`,
      requestId: '',
    }
    return { result: { ok: false, status: res.status, error }, setCookie: null }
  }
  const call = async <T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> =>
    (await send<T>(method, path, body)).result
  const id = encodeURIComponent
  return {
    session: () => call<SessionView>('GET', '/v1/admin/session'),
    logout: () => call<undefined>('POST', '/v1/admin/logout'),
    rules: (statuses?: string) =>
      call<{ rules: RuleView[] }>(
        'GET',
        `/v1/admin/rules${statuses ? `?status=${id(statuses)}` : ''}`,
      ),
    rule: (ruleId: string) => call<RuleView>('GET', `/v1/admin/rules/${id(ruleId)}`),
    create: (body: unknown) => call<RuleView>('POST', '/v1/admin/rules', body),
    update: (ruleId: string, body: unknown) =>
      call<RuleView>('PUT', `/v1/admin/rules/${id(ruleId)}`, body),
    setStatus: (ruleId: string, action: 'activate' | 'pause' | 'archive') =>
      call<RuleView>('POST', `/v1/admin/rules/${id(ruleId)}/${action}`),
    versions: (ruleId: string) =>
      call<{ versions: VersionView[] }>('GET', `/v1/admin/rules/${id(ruleId)}/versions`),
    stats: () => call<{ rules: RuleStats[] }>('GET', '/v1/admin/stats'),
    daily: (ruleId: string, days: number) =>
      call<DailyView>('GET', `/v1/admin/stats/${id(ruleId)}/daily?days=${days}`),
    dailyAll: (days: number) => call<DailyAllResponse>('GET', `/v1/admin/stats/daily?days=${days}`),
    previewDraft: (rule: unknown) =>
      call<PreviewView>('POST', '/v1/admin/preview', { rule, sample: 10 }),
    preview: (ruleId: string) =>
      call<PreviewView>('POST', `/v1/admin/rules/${id(ruleId)}/preview`, { sample: 10 }),
    testRule: (ruleId: string, shopper: string) =>
      call<RuleTestResponse>('POST', `/v1/admin/rules/${id(ruleId)}/test`, { shopper }),
    decisions: (shopper: string) =>
      call<{ shopper: string; decisions: DecisionTrace[] }>(
        'GET',
        `/v1/admin/decisions/${id(shopper)}`,
      ),
    audit: (limit: number) =>
      call<{ entries: AuditEntry[] }>('GET', `/v1/admin/audit?limit=${limit}`),
    health: () => call<HealthResponse>('GET', '/v1/admin/health'),
    retryJobs: (queue: string, jobId?: string) =>
      call<{ retried: string }>('POST', '/v1/admin/health/retry', { queue, jobId }),
    staffList: () => call<StaffListResponse>('GET', '/v1/admin/staff'),
    invite: (email: string, role: string) =>
      call<InviteResponse>('POST', '/v1/admin/staff', { email, role }),
    setRole: (staffId: string, role: string) =>
      call<unknown>('PATCH', `/v1/admin/staff/${id(staffId)}`, { role }),
    removeStaff: (staffId: string) => call<undefined>('DELETE', `/v1/admin/staff/${id(staffId)}`),
    settings: () => call<SettingsResponse>('GET', '/v1/admin/settings'),
    addOrigin: (origin: string) =>
      call<{ allowedOrigins: string[]; changed: boolean }>('POST', '/v1/admin/settings/origins', {
        origin,
      }),
    removeOrigin: (origin: string) =>
      call<{ allowedOrigins: string[]; changed: boolean }>('DELETE', '/v1/admin/settings/origins', {
        origin,
      }),
    rotate: (what: 'secret' | 'keys') =>
      call<{ writeKey: string; secret: string; note: string }>(
        'POST',
        '/v1/admin/settings/rotate',
        { what },
      ),
    setWeights: (weights: Record<string, number | string>) =>
      call<{ eventWeights: Record<string, number> }>('PUT', '/v1/admin/settings/weights', {
        weights,
      }),
    setHalfLife: (hours: number | string | null) =>
      call<{ halfLifeHours: number | null }>('PUT', '/v1/admin/settings/half-life', { hours }),
    tokens: () => call<TokenListResponse>('GET', '/v1/admin/tokens'),
    createToken: (name: string, expiresInDays: number | string) =>
      call<TokenCreateResponse>('POST', '/v1/admin/tokens', { name, expiresInDays }),
    revokeToken: (tokenId: string) => call<undefined>('DELETE', `/v1/admin/tokens/${id(tokenId)}`),
    /** With the Set-Cookie of the session that replaces this one, for the browser. */
    changePassword: (body: PasswordChangeRequest) =>
      send<PasswordChangeResponse>('POST', '/v1/admin/password', body),
  }
}

export type AdminClient = ReturnType<typeof createAdminClient>
