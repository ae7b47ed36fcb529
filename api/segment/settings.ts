/**
 * @module The settings documents that analytics-next (`GET /v1/projects/:writeKey/settings`,
 * fetched from `cdnURL`) and RudderStack JS SDK v3 (`GET /sourceConfig/?writeKey=…`, fetched from
 * `configUrl`) load before sending anything. Served by Nudge, they let a store drop the vendor
 * CDN and point the unchanged SDK at Nudge: every event comes back here and nothing else loads.
 */

export type AnalyticsJsSettingsInput = {
  writeKey: string
  /** Where the api is reached, without scheme: `nudge.example.com` or `nudge.example.com/v1`. */
  apiHost: string
  protocol: 'http' | 'https'
}

export type AnalyticsJsSettings = {
  integrations: {
    'Segment.io': {
      apiKey: string
      apiHost: string
      protocol: 'http' | 'https'
      retryQueue: boolean
      addBundledMetadata: boolean
      unbundledIntegrations: string[]
      maybeBundledConfigIds: Record<string, string[]>
    }
  }
  plan: { track: { __default: { enabled: boolean; integrations: Record<string, boolean> } } }
  metrics: { sampleRate: number; host: string }
  remotePlugins: unknown[]
  enabledMiddleware: Record<string, boolean>
  middlewareSettings: Record<string, unknown>
  legacyVideoPluginsEnabled: boolean
  edgeFunction: Record<string, never>
  analyticsNextEnabled: boolean
}

/** analytics-next appends `/t`, `/i`, `/p`, `/b` to `${protocol}://${apiHost}`, so `/v1` belongs in it. */
function segmentApiHost(apiHost: string): string {
  const bare = apiHost
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '')
  return bare.endsWith('/v1') ? bare : `${bare}/v1`
}

/**
 * The CDN settings analytics-next (@segment/analytics-next, `AnalyticsBrowser.load({ writeKey,
 * cdnURL })`) reads, in the shape cdn.segment.com serves. What it reads and why each field is here
 * (packages/browser/src/browser/index.ts, plugins/segmentio, core/stats/remote-metrics.ts):
 * - `integrations` must exist and hold only `Segment.io`: more than one key loads classic device
 *   mode destinations from the CDN. `Segment.io` configures the plugin that sends events:
 *   `apiKey` is put into every body as `writeKey`; events go to `${protocol}://${apiHost}/<t|i|p…>`;
 *   `retryQueue` keeps failed events in localStorage for retry. No `deliveryStrategy`: the default
 *   sends each call at once, which an offer needs within milliseconds, whereas batching waits up
 *   to 5 s and always uses https (segmentio/analytics-next#1002). `addBundledMetadata: false` stops
 *   the `_metadata.bundled` lists Nudge ignores.
 * - `metrics.sampleRate: 0` stops the SDK posting its own counters to api.segment.io/v1/m.
 * - `remotePlugins: []`, `enabledMiddleware: {}`, `middlewareSettings: {}` and
 *   `legacyVideoPluginsEnabled: false` load no remote code.
 * - `plan`, `edgeFunction` and `analyticsNextEnabled` are not read by the npm loader; they match
 *   the CDN document for snippet bundles and wrappers that do read them, and enable every event.
 * @example analyticsJsSettings({ writeKey: 'wk_1', apiHost: 'nudge.example.com', protocol: 'https' })
 */
export function analyticsJsSettings(input: AnalyticsJsSettingsInput): AnalyticsJsSettings {
  const apiHost = segmentApiHost(input.apiHost)
  return {
    integrations: {
      'Segment.io': {
        apiKey: input.writeKey,
        apiHost,
        protocol: input.protocol,
        retryQueue: true,
        addBundledMetadata: false,
        unbundledIntegrations: [],
        maybeBundledConfigIds: {},
      },
    },
    plan: { track: { __default: { enabled: true, integrations: {} } } },
    metrics: { sampleRate: 0, host: apiHost },
    remotePlugins: [],
    enabledMiddleware: {},
    middlewareSettings: {},
    legacyVideoPluginsEnabled: false,
    edgeFunction: {},
    analyticsNextEnabled: true,
  }
}

export type RudderSourceConfigInput = {
  writeKey: string
  siteId: string
  siteName: string
  /** Nudge's public base URL; older v3 releases prefer `source.dataplanes` over the load call's. */
  dataPlaneUrl?: string
}

export type RudderSourceConfig = {
  isHosted: boolean
  source: {
    id: string
    name: string
    writeKey: string
    workspaceId: string
    enabled: boolean
    config: { statsCollection: { errors: { enabled: boolean }; metrics: { enabled: boolean } } }
    destinations: unknown[]
    dataplanes?: { US: { url: string; default: boolean }[] }
  }
}

/**
 * The source config RudderStack's JS SDK v3 (@rudderstack/analytics-js, `rudderanalytics.load(
 * writeKey, dataPlaneUrl, { configUrl })`) fetches, in the shape api.rudderstack.com serves. What it
 * reads (packages/analytics-js/src/components/configManager/ConfigManager.ts, util/validate.ts):
 * - `isValidSourceConfig` rejects the whole document unless `source` is an object with a non-null
 *   `id`, an object `config` and an array `destinations`.
 * - `enabled: false` makes the SDK log an error and stop, so a served site is `true`.
 * - `config.statsCollection.errors|metrics.enabled`: older v3 releases dereference both without
 *   checks, and `false` keeps the SDK from posting its own metrics and error reports.
 * - `destinations: []` loads no device-mode integration from the vendor CDN.
 * - `id`, `name`, `workspaceId` go into the SDK's state (error and metrics metadata only); a
 *   Nudge site is the closest thing to both a source and a workspace.
 * - `dataplanes` (only with `dataPlaneUrl`) is what older v3 releases resolve the data plane from
 *   before falling back to the load call's URL; current releases ignore it.
 * @example rudderSourceConfig({ writeKey: 'wk_1', siteId: 'sit_1', siteName: 'Shop' })
 */
export function rudderSourceConfig(input: RudderSourceConfigInput): RudderSourceConfig {
  return {
    isHosted: false,
    source: {
      id: input.siteId,
      name: input.siteName,
      writeKey: input.writeKey,
      workspaceId: input.siteId,
      enabled: true,
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
      ...(input.dataPlaneUrl === undefined
        ? {}
        : { dataplanes: { US: [{ url: input.dataPlaneUrl.replace(/\/+$/, ''), default: true }] } }),
    },
  }
}
