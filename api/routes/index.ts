/** @module Every route module, registered by app.ts in this order. */
import type { Hono } from 'hono'
import type { HonoEnv } from '../context'
import * as eventsBatch from './events.batch'
import * as health from './health'
import * as profilesGet from './profiles.get'
import * as recommendationsGet from './recommendations.get'
import * as schemasList from './schemas.list'
import * as segmentBatch from './segment.batch'
import * as segmentSettings from './segment.settings'

export const routes: { register(app: Hono<HonoEnv>): void }[] = [
  health,
  schemasList,
  eventsBatch,
  segmentBatch,
  segmentSettings,
  profilesGet,
  recommendationsGet,
]
