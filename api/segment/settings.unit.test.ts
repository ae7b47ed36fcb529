import { describe, expect, it } from 'vitest'
import { analyticsJsSettings, rudderSourceConfig } from './settings'

/** What the SDK gets: the document after a JSON round trip, as an untyped object. */
function served(document: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(document))
}

function objectAt(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || !(key in value)) {
    throw new Error(`expected an object with "${key}", got ${JSON.stringify(value)}`)
  }
  const found: unknown = Reflect.get(value, key)
  if (typeof found !== 'object' || found === null) {
    throw new Error(`expected "${key}" to be an object, got ${JSON.stringify(found)}`)
  }
  return { ...found }
}

describe('analyticsJsSettings', () => {
  const settings = served(
    analyticsJsSettings({ writeKey: 'wk_1', apiHost: 'nudge.example.com', protocol: 'https' }),
  )

  it('sends events back to Nudge the way analytics-next builds its request URL', () => {
    // plugins/segmentio/index.ts: remote = `${protocol}://${apiHost}`, path = type's first letter;
    // lib/merged-options.ts merges integrations['Segment.io'] into the plugin settings.
    const segmentio = objectAt(objectAt(settings, 'integrations'), 'Segment.io')
    expect(`${segmentio.protocol}://${segmentio.apiHost}/${'track'.charAt(0)}`).toBe(
      'https://nudge.example.com/v1/t',
    )
    expect(segmentio.apiKey).toBe('wk_1')
    expect(segmentio.retryQueue).toBe(true)
    expect(segmentio).not.toHaveProperty('deliveryStrategy')
  })

  it('loads no destination, middleware, plugin or metrics endpoint of Segment', () => {
    // browser/index.ts: more than one integration loads classic destinations from the CDN.
    expect(Object.keys(objectAt(settings, 'integrations'))).toEqual(['Segment.io'])
    expect(settings.remotePlugins).toEqual([])
    expect(Object.values(objectAt(settings, 'enabledMiddleware'))).not.toContain(true)
    expect(objectAt(settings, 'middlewareSettings')).not.toHaveProperty('routingRules')
    expect(settings.legacyVideoPluginsEnabled).toBe(false)
    // core/stats/remote-metrics.ts posts to `${host}/m` only when sampleRate > 0.
    expect(objectAt(settings, 'metrics').sampleRate).toBe(0)
  })

  it('enables every tracked event in the plan', () => {
    const track = objectAt(objectAt(settings, 'plan'), 'track')
    expect(objectAt(track, '__default').enabled).toBe(true)
  })

  it.each([
    ['https://nudge.example.com/', 'nudge.example.com/v1'],
    ['localhost:8080/v1', 'localhost:8080/v1'],
    ['shop.example/nudge/', 'shop.example/nudge/v1'],
  ])('normalizes apiHost %s to %s', (apiHost, expected) => {
    const result = analyticsJsSettings({ writeKey: 'wk_1', apiHost, protocol: 'http' })
    expect(result.integrations['Segment.io'].apiHost).toBe(expected)
    expect(result.integrations['Segment.io'].protocol).toBe('http')
  })
})

describe('rudderSourceConfig', () => {
  const config = served(rudderSourceConfig({ writeKey: 'wk_1', siteId: 'sit_1', siteName: 'Shop' }))
  const source = objectAt(config, 'source')

  it('passes the SDK check that otherwise rejects the whole config', () => {
    // configManager/util/validate.ts isValidSourceConfig, restated.
    expect(source.id).not.toBeNull()
    expect(objectAt(source, 'config')).toBeTypeOf('object')
    expect(Array.isArray(source.destinations)).toBe(true)
  })

  it('describes an enabled source with no destinations and no stats collection', () => {
    expect(source).toMatchObject({ id: 'sit_1', name: 'Shop', writeKey: 'wk_1', enabled: true })
    expect(source.destinations).toEqual([])
    // Older v3 releases read source.config.statsCollection.errors.enabled without checks.
    const stats = objectAt(objectAt(source, 'config'), 'statsCollection')
    expect(objectAt(stats, 'errors').enabled).toBe(false)
    expect(objectAt(stats, 'metrics').enabled).toBe(false)
    expect(source).not.toHaveProperty('dataplanes')
  })

  it('names the data plane the way older v3 releases resolve it', () => {
    const withPlane = rudderSourceConfig({
      writeKey: 'wk_1',
      siteId: 'sit_1',
      siteName: 'Shop',
      dataPlaneUrl: 'https://nudge.example.com/',
    })
    // configManager/util/dataPlaneResolver.ts: the `default: true` entry of region US.
    const planes = withPlane.source.dataplanes?.US ?? []
    expect(planes.find((plane) => plane.default)?.url).toBe('https://nudge.example.com')
  })
})
