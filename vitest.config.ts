import { defineConfig } from 'vitest/config'

// Two projects: "unit" tests are pure and need no services; "integration" tests talk to the
// real Redis and PostgreSQL on 127.0.0.1 (see README "Tests"), each under its own key prefix
// or schema, so both projects run files in parallel.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.unit.test.ts'],
          exclude: ['node_modules/**', '.data/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.test.ts'],
          exclude: ['**/*.unit.test.ts', 'node_modules/**', '.data/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
})
