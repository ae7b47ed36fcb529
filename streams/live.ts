/**
 * @module The live protocol `nudge.v1` between the gateway and its clients (the browser SDK,
 * native apps): every frame as a zod schema; the subprotocol, close codes and limits live in
 * live-protocol.ts (no dependencies, so the SDK can import them) and are re-exported here.
 * README "Live protocol" documents the same, for client authors.
 *
 * Frames are JSON text messages, one object each, discriminated by `type`. Client frames are at
 * most LIVE_LIMITS.maxFrameBytes; anything larger closes the socket (1009). Unknown `type`s and
 * malformed frames get an `error` frame and are otherwise ignored, so a newer client talking
 * to an older gateway degrades instead of disconnecting.
 */
import { z } from 'zod'
import { idString } from './envelope'
import { offer } from './offers'

export { CLOSE, LIVE_LIMITS, LIVE_PATH, LIVE_SUBPROTOCOL, shouldReconnect } from './live-protocol'

const ackOutcome = z.enum(['shown', 'clicked', 'dismissed'])
export type AckOutcome = z.infer<typeof ackOutcome>

/** Client → server. */
export const clientFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ack'),
    /** The offer's id, as its `offer` frame carried it. */
    id: idString,
    outcome: ackOutcome,
  }),
  z.object({
    type: z.literal('resume'),
    /** The id of the last offer this client received; offers after it are replayed. */
    last: idString,
  }),
  z.object({
    type: z.literal('auth'),
    /** A new identity token of the same site (e.g. after login): the socket moves to its profile. */
    token: z.string().min(1).max(2048),
  }),
])
export type ClientFrame = z.infer<typeof clientFrame>

/** Server → client. */
export const serverFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    /** This connection's id (for support and logs). */
    session: z.string(),
    /** The profile the socket is subscribed to, as `a:<anonymousId>` or `u:<userId>`. */
    profile: z.string(),
    /**
     * How the gateway caught the socket up: `after` replayed what the inbox holds after `last`;
     * `latest` sent the newest still-valid offer not yet acknowledged (when there is one).
     */
    resume: z.object({ mode: z.enum(['after', 'latest']), last: idString.nullable() }),
  }),
  z.object({ type: z.literal('offer'), offer }),
  z.object({
    type: z.literal('error'),
    /** `bad_frame`, `unknown_offer`, `auth_rejected`, `rate_limited`, `unavailable`. The socket stays open. */
    code: z.string(),
    message: z.string(),
  }),
])
export type ServerFrame = z.infer<typeof serverFrame>
