/**
 * The import arrows of the layout (see README "Layout"): runtime ← streams ← {api, workers,
 * gateway}; drizzle ← {api, workers}. No role imports another role, and nothing forms a cycle.
 * test/, bench/ and bin/ may import anything.
 */
const roles = ['api', 'workers', 'gateway']

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Imports must form a DAG.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'runtime-is-a-leaf',
      severity: 'error',
      comment: 'runtime/ is process plumbing and imports nothing else from the project.',
      from: { path: '^runtime/' },
      to: { path: '^(streams|api|workers|gateway|drizzle|web-sdk|console|bin|test|bench)/' },
    },
    {
      name: 'streams-are-contracts',
      severity: 'error',
      comment: 'streams/ holds the contracts: it may import runtime/ and npm packages only.',
      from: { path: '^streams/' },
      to: { path: '^(api|workers|gateway|drizzle|web-sdk|console|bin|test|bench)/' },
    },
    {
      name: 'drizzle-is-storage',
      severity: 'error',
      comment: 'drizzle/ is storage and imports only runtime/ and npm packages.',
      from: { path: '^drizzle/' },
      to: { path: '^(streams|api|workers|gateway|web-sdk|console|bin|test|bench)/' },
    },
    ...roles.map((role) => ({
      name: `${role}-imports-no-other-role`,
      severity: 'error',
      comment: 'Roles meet in Redis through streams/, never by importing each other.',
      from: { path: `^${role}/` },
      to: {
        path: `^(${roles.filter((r) => r !== role).join('|')}|bin|test|bench|web-sdk|console)/`,
      },
    })),
    {
      name: 'gateway-has-no-database',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^drizzle/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // Resolve package subpath exports (hono/request-id, tsx/esm/api) as Node does.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    exclude: { path: '(^node_modules/|\\.test\\.ts$)' },
  },
}
