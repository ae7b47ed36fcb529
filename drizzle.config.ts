/**
 * @module drizzle-kit settings. `npm run db:generate` writes a migration after a schema change;
 * the app applies migrations itself on start (drizzle/client.ts), so no `migrate` step is needed.
 * DATABASE_URL is read only for the optional drizzle-kit commands that connect (studio, check).
 */
import { defineConfig } from 'drizzle-kit'

const url = process.env.DATABASE_URL

export default defineConfig({
  schema: './drizzle/schema/index.ts',
  out: './drizzle/migrations',
  dialect: 'postgresql',
  ...(url ? { dbCredentials: { url } } : {}),
})
