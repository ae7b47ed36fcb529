/** @module GET /v1/schemas and /v1/schemas/:type/:version: the event contracts as JSON Schema. */
import type { Hono } from 'hono'
import { EVENT_TYPES, jsonSchemaOf, listSchemas, type SchemaInfo } from '../../streams/events'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

export type SchemasListResponse = { schemas: SchemaInfo[] }

export function register(app: Hono<HonoEnv>): void {
  const catalogue: SchemasListResponse = { schemas: listSchemas() }
  // Built once: schemas only change with a deploy.
  const bodies = new Map(
    catalogue.schemas.map((s) => [`${s.type}/${s.v}`, jsonSchemaOf(s.type, s.v)]),
  )

  app.get('/v1/schemas', (c) => c.json(catalogue))

  app.get('/v1/schemas/:type/:version', (c) => {
    const { type, version } = c.req.param()
    const schema = bodies.get(`${type}/${version}`)
    if (!schema) {
      const known = (EVENT_TYPES as readonly string[]).includes(type)
      throw new ApiError(
        'NOT_FOUND',
        known
          ? `${type} has no version ${version}; see GET /v1/schemas for the versions served.`
          : `Unknown event type ${type}; expected one of ${EVENT_TYPES.join(', ')}.`,
      )
    }
    return c.json(schema)
  })
}
