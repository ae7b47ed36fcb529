/** @module Every route module, registered by app.ts in this order. */
import type { Hono } from 'hono'
import * as consolePages from '../../console/app'
import type { HonoEnv } from '../context'
import * as adminHealth from './admin.health'
import * as adminInsights from './admin.insights'
import * as adminPassword from './admin.password'
import * as adminResults from './admin.results'
import * as adminRuleTest from './admin.rule-test'
import * as adminRules from './admin.rules'
import * as adminSession from './admin.session'
import * as adminSettings from './admin.settings'
import * as adminStaff from './admin.staff'
import * as adminTokens from './admin.tokens'
import * as demoLogin from './demo.login'
import * as demoPage from './demo.page'
import * as eventsBatch from './events.batch'
import * as health from './health'
import * as identityToken from './identity.token'
import * as profilesGet from './profiles.get'
import * as recommendationsGet from './recommendations.get'
import * as schemasList from './schemas.list'
import * as sdk from './sdk'
import * as segmentBatch from './segment.batch'
import * as segmentSettings from './segment.settings'

export const routes: { register(app: Hono<HonoEnv>): void }[] = [
  health,
  schemasList,
  eventsBatch,
  identityToken,
  segmentBatch,
  segmentSettings,
  profilesGet,
  recommendationsGet,
  adminSession,
  adminTokens,
  adminPassword,
  adminRules,
  adminInsights,
  adminResults,
  adminRuleTest,
  adminHealth,
  adminStaff,
  adminSettings,
  consolePages,
  sdk,
  demoPage,
  demoLogin,
]
