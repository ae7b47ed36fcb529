/**
 * @module The console's enhancement script (console/client/enhance.ts), bundled by esbuild into
 * one small IIFE on first request and kept in memory; a failed build is not cached, so the next
 * request tries again. The pages work without it (forms post to the server); it only adds
 * confirmations, in-place redraws of the condition builder and the live toast preview.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ENTRY = fileURLToPath(new URL('./client/enhance.ts', import.meta.url))

let bundle: Promise<string> | undefined

/**
 * The bundled script's text.
 * @example c.body(await consoleScript(), 200, { 'Content-Type': 'text/javascript' })
 */
export function consoleScript(): Promise<string> {
  if (!bundle) {
    bundle = build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'iife',
      minify: true,
      target: ['es2020'],
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    }).then((result) => result.outputFiles[0]?.text ?? '')
    bundle.catch(() => {
      bundle = undefined
    })
  }
  return bundle
}
