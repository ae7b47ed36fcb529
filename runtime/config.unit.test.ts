import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config'

describe('loadConfig', () => {
  it('applies documented defaults to an empty environment', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      PORT: 3000,
      NUDGE_PARTITIONS: 8,
      NUDGE_RETENTION: 7 * 86_400_000,
      NUDGE_PROFILE_TTL: 90 * 86_400_000,
      NUDGE_DEDUP_WINDOW: 86_400_000,
      NUDGE_KEY_PREFIX: 'nudge:',
      LOG_LEVEL: 'info',
    })
    expect(config.REDIS_URL).toBeUndefined()
    expect(config.DATABASE_URL).toBeUndefined()
  })

  it('parses durations, numbers and booleans', () => {
    const config = loadConfig({
      NUDGE_RETENTION: '36h',
      NUDGE_REDIS_TIMEOUT: '250ms',
      PORT: '8080',
      NUDGE_TRUST_PROXY: 'yes',
    })
    expect(config.NUDGE_RETENTION).toBe(36 * 3_600_000)
    expect(config.NUDGE_REDIS_TIMEOUT).toBe(250)
    expect(config.PORT).toBe(8080)
    expect(config.NUDGE_TRUST_PROXY).toBe(true)
  })

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ REDIS_URL: '', DATABASE_URL: '' }).REDIS_URL).toBeUndefined()
  })

  it('names every bad variable and what it expects', () => {
    let error: unknown
    try {
      loadConfig({
        PORT: '70000',
        REDIS_URL: 'http://x',
        NUDGE_RETENTION: 'a week',
        DATABASE_URL: 'mysql://x',
      })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toContain('PORT: expected a whole number from 0 to 65535')
    expect(message).toContain('REDIS_URL: expected a redis:// or rediss:// URL')
    expect(message).toContain(
      'NUDGE_RETENTION: expected a duration such as 500ms, 30s, 10m, 24h or 7d, got "a week"',
    )
    expect(message).toContain('DATABASE_URL: expected a postgres:// URL')
  })

  it('refuses profiles that would expire before the log entries they counted', () => {
    expect(() => loadConfig({ NUDGE_RETENTION: '30d', NUDGE_PROFILE_TTL: '7d' })).toThrow(
      'NUDGE_PROFILE_TTL: must be at least NUDGE_RETENTION',
    )
    expect(loadConfig({ NUDGE_RETENTION: '30d', NUDGE_PROFILE_TTL: '30d' }).NUDGE_PROFILE_TTL).toBe(
      30 * 86_400_000,
    )
  })
})
