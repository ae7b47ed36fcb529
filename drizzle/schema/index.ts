/** @module Every table, for drizzle-kit (migrations) and for typed queries (`Db`). */
export { profileSnapshots } from './profile-snapshots'
export { sites } from './sites'
