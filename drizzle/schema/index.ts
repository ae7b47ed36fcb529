/** @module Every table, for drizzle-kit (migrations) and for typed queries (`Db`). */
export { sites } from './sites'
