/**
 * The import arrows of the layout (see README "Layout"): runtime ← streams ← {api, workers,
 * gateway}; drizzle ← {api, workers}; gateway reads drizzle/queries and drizzle/origins.ts only. No role imports another role, and nothing forms a cycle.
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
        // The api serves the console (api/routes/index.ts registers its pages); no other role may.
        path: `^(${roles.filter((r) => r !== role).join('|')}|bin|test|bench|web-sdk${role === 'api' ? '' : '|console'})/`,
      },
    })),
    {
      name: 'gateway-reads-sites-only',
      severity: 'error',
      comment:
        'The gateway may use site queries and origin matching (the entry file passes it a lookup), never the client or schema.',
      from: { path: '^gateway/' },
      to: { path: '^drizzle/', pathNot: '^drizzle/(queries/|origins\\.ts$)' },
    },
    {
      name: 'web-sdk-is-self-contained',
      severity: 'error',
      comment:
        'The browser SDK is bundled for pages: it imports nothing of the server (contracts it needs are copied, see web-sdk/src/socket.ts).',
      from: { path: '^web-sdk/' },
      to: { path: '^(runtime|streams|api|workers|gateway|drizzle|console|bin|test|bench)/' },
    },
    {
      name: 'console-is-ui',
      severity: 'error',
      comment:
        'The console renders pages from the admin API only (in process): it may use streams/ and runtime/, and api/ for types only; never storage or another role.',
      from: { path: '^console/' },
      to: { path: '^(drizzle|workers|gateway|web-sdk|bin|test|bench)/' },
    },
    {
      name: 'console-uses-api-types-only',
      severity: 'error',
      comment: 'The console reaches the api through HTTP requests to its app, never its internals.',
      from: { path: '^console/' },
      to: { path: '^api/', dependencyTypesNot: ['type-only'] },
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
