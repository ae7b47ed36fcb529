/**
 * @module The gateway's one Redis subscriber connection: per-profile channels `live:{u}`
 * (streams/keys.ts), subscribed while at least one socket of that profile is open here.
 *
 * PUBLISH/SUBSCRIBE on standalone Redis. Pub/sub is at-most-once: a message published while
 * this connection is down is lost, so after every reconnect `onResubscribed` fires and the
 * gateway catches its sockets up from the inboxes (streams/inbox.ts). ioredis re-subscribes
 * every channel itself on reconnect.
 */
import type { Redis } from 'ioredis'
import type { Keys } from '../streams/keys'

export type OfferSubscriber = {
  /**
   * Counts one more socket of the profile; resolves once Redis confirmed the subscription, so
   * an inbox read after it cannot miss a publish that happens in between.
   */
  acquire(profileKey: string): Promise<void>
  /** Counts one socket less; the last one unsubscribes. */
  release(profileKey: string): void
  /** Profiles subscribed right now. */
  readonly profiles: number
  close(): Promise<void>
}

/**
 * @example const sub = createOfferSubscriber(subscriberRedis, keys, { onMessage, onResubscribed })
 */
export function createOfferSubscriber(
  redis: Redis,
  keys: Keys,
  handlers: {
    /** A published offer (raw JSON) for a profile subscribed here. */
    onMessage(profileKey: string, json: string): void
    /** The connection came back after a loss: publishes in the gap were missed. */
    onResubscribed(): void
    onError(err: Error): void
  },
): OfferSubscriber {
  const channelPrefix = keys.live('')
  // keys.live(p) is `<prefix>live:{<p>}`: the profile sits between the prefix part and the brace.
  const head = channelPrefix.slice(0, -1)
  const subs = new Map<string, { refs: number; ready: Promise<void> }>()
  let readyOnce = false

  redis.on('message', (channel: string, message: string) => {
    if (channel.startsWith(head) && channel.endsWith('}')) {
      handlers.onMessage(channel.slice(head.length, -1), message)
    }
  })
  redis.on('ready', () => {
    if (readyOnce) {
      // ioredis emits 'ready' before it re-sends SUBSCRIBE; a PING queued after that returns
      // once Redis has the subscriptions back, so the catch-up cannot fall into a gap.
      setImmediate(() => {
        redis.ping().then(handlers.onResubscribed, handlers.onError)
      })
    }
    readyOnce = true
  })
  if (redis.status === 'ready') {
    readyOnce = true
  }
  redis.on('error', handlers.onError)

  return {
    acquire(profileKey) {
      let sub = subs.get(profileKey)
      if (!sub) {
        sub = { refs: 0, ready: redis.subscribe(keys.live(profileKey)).then(() => undefined) }
        subs.set(profileKey, sub)
      }
      sub.refs += 1
      return sub.ready
    },
    release(profileKey) {
      const sub = subs.get(profileKey)
      if (!sub) {
        return
      }
      sub.refs -= 1
      if (sub.refs <= 0) {
        subs.delete(profileKey)
        // Queued after any earlier SUBSCRIBE on this one connection, so order is kept.
        redis.unsubscribe(keys.live(profileKey)).catch(handlers.onError)
      }
    },
    get profiles() {
      return subs.size
    },
    async close() {
      subs.clear()
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
