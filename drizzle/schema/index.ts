/** @module Every table, for drizzle-kit (migrations) and for typed queries (`Db`). */

export {
  auditLog,
  offerOutcomes,
  rules,
  ruleVersions,
  staff,
  staffSessions,
  staffTokens,
} from './offers'
export { profileSnapshots } from './profile-snapshots'
export { sites } from './sites'
