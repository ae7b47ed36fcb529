/**
 * @module The catalogue of event types: the union the api validates against, the stored
 * form consumers parse, and the JSON Schemas served at GET /v1/schemas.
 *
 * To add a version: define it beside v1 and list it here. While two versions of a type are
 * accepted, nest them as `z.discriminatedUnion('v', [...])` inside the outer union.
 */
import { z } from 'zod'
import { serverFields } from '../envelope'
import { ClickedProduct, PageViewed, ProductViewed, SearchPerformed } from './browsing'
import { AddedToCart, CheckoutStarted, OrderCompleted, RemovedFromCart } from './cart'
import { Custom } from './custom'
import { UserLoggedIn, UserLoggedOut } from './identity'
import { OfferClicked, OfferDismissed, OfferShown } from './offers'

const definitions = [
  UserLoggedIn,
  UserLoggedOut,
  PageViewed,
  ProductViewed,
  ClickedProduct,
  AddedToCart,
  RemovedFromCart,
  CheckoutStarted,
  OrderCompleted,
  SearchPerformed,
  OfferShown,
  OfferClicked,
  OfferDismissed,
  Custom,
] as const

/** Every event type name at any version. */
export const EVENT_TYPES = definitions.map((d) => d.shape.type.value)
export type EventType = (typeof definitions)[number]['shape']['type']['value']

/** An event as a client sends it (after parsing: defaults applied, unknown keys dropped). */
export const clientEvent = z.discriminatedUnion('type', definitions)
export type ClientEvent = z.infer<typeof clientEvent>

/** An event as it is stored in the log: the client event plus the api's stamps. */
export type StoredEvent = ClientEvent & z.infer<typeof serverFields>

/**
 * The stored form's schema. Built by mapping the definitions, which TypeScript cannot follow
 * through `.map`, hence the declared type: each option is exactly a definition + serverFields.
 */
export const storedEvent = z.discriminatedUnion(
  'type',
  definitions.map((d) => d.extend(serverFields.shape)) as unknown as [
    ReturnType<(typeof definitions)[number]['extend']>,
  ],
) as unknown as z.ZodType<StoredEvent>

/** One entry of the schema catalogue. */
export type SchemaInfo = { type: EventType; v: number; description: string; path: string }

const byTypeVersion = new Map(
  definitions.map((d) => [`${d.shape.type.value}/${d.shape.v.value}`, d]),
)

/** The catalogue served by GET /v1/schemas. */
export function listSchemas(): SchemaInfo[] {
  return definitions.map((d) => ({
    type: d.shape.type.value,
    v: d.shape.v.value,
    description: d.description ?? '',
    path: `/v1/schemas/${d.shape.type.value}/${d.shape.v.value}`,
  }))
}

/**
 * The JSON Schema (draft 2020-12) of one event type at one version, as a client sends it, or
 * undefined when there is no such type or version.
 * @example jsonSchemaOf('ProductViewed', 1)?.properties
 */
export function jsonSchemaOf(type: string, v: number): Record<string, unknown> | undefined {
  const definition = byTypeVersion.get(`${type}/${v}`)
  if (!definition) {
    return undefined
  }
  return z.toJSONSchema(definition, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
}

/**
 * A quick check that a value is a stored event in the shape the processors rely on: the ids,
 * a type at a version this code knows, the api's stamps, and the props fields that have defaults already filled in.
 * Readers of the log and of events jobs run it instead of a full `storedEvent` parse, which
 * cost the workers ~7% of their CPU (and a deep copy of every event) for events the api had
 * already parsed before writing them. What fails it is parsed in full, so an entry written by
 * an older version gets its defaults, and a broken one is told apart with its path.
 * @example if (!looksStored(json)) { const parsed = storedEvent.safeParse(json) }
 */
export function looksStored(value: unknown): value is StoredEvent {
  if (typeof value !== 'object' || value === null) {
    return false
  }
  const e = value as Record<string, unknown>
  return (
    typeof e.id === 'string' &&
    typeof e.siteId === 'string' &&
    typeof e.type === 'string' &&
    byTypeVersion.has(`${e.type}/${e.v}`) &&
    typeof e.ts === 'number' &&
    typeof e.receivedAt === 'number' &&
    typeof e.verified === 'boolean' &&
    (typeof e.anonymousId === 'string' || typeof e.userId === 'string') &&
    typeof e.props === 'object' &&
    e.props !== null &&
    defaultsPresent(e.type, e.props as Record<string, unknown>)
  )
}

/** The props fields with defaults in the event contracts are filled in. */
function defaultsPresent(type: string, props: Record<string, unknown>): boolean {
  switch (type) {
    case 'OrderCompleted':
    case 'CheckoutStarted':
      return Array.isArray(props.products)
    case 'Custom':
      return typeof props.properties === 'object' && props.properties !== null
    default:
      return true
  }
}
