/**
 * @module `npm run build:sdk`: the SDK for bundlers — `web-sdk/dist/nudge.mjs` (ESM, minified,
 * same browser targets as /sdk.js) and its TypeScript declarations, which `web-sdk/package.json`
 * exports. The IIFE at /sdk.js needs no build step: the api bundles it on first request.
 * Fails (exit 1) when the ESM build breaks the SDK's size budget (8 KB min+gzip).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
/** The same targets as /sdk.js (api/routes/sdk.ts SDK_TARGET). */
const TARGET = ['es2019', 'chrome80', 'firefox80', 'safari14.1']
const BUDGET_GZIP = 8 * 1024

const out = here('./dist/')
rmSync(out, { recursive: true, force: true })
const result = await build({
  entryPoints: [here('./src/module.ts')],
  bundle: true,
  format: 'esm',
  minify: true,
  target: TARGET,
  outfile: `${out}nudge.mjs`,
  legalComments: 'none',
  metafile: true,
  write: true,
})
const [, output] = Object.entries(result.metafile.outputs)[0] ?? []
const code = readFileSync(`${out}nudge.mjs`)
const gzip = gzipSync(code).length
execFileSync(
  process.execPath,
  [
    here('../node_modules/typescript/bin/tsc'),
    here('./src/module.ts'),
    '--declaration',
    '--emitDeclarationOnly',
    '--outDir',
    out,
    '--lib',
    'ES2023,DOM',
    '--target',
    'ES2022',
    '--module',
    'ESNext',
    '--moduleResolution',
    'Bundler',
    '--skipLibCheck',
  ],
  { stdio: 'inherit' },
)
console.log(
  `web-sdk/dist/nudge.mjs: ${output?.bytes ?? code.length} bytes minified, ${gzip} bytes gzip (budget ${BUDGET_GZIP}); declarations in web-sdk/dist/`,
)
if (gzip > BUDGET_GZIP) {
  console.error(`Over the size budget by ${gzip - BUDGET_GZIP} bytes gzip.`)
  process.exit(1)
}
