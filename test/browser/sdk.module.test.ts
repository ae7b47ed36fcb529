/**
 * The ESM build for bundlers (web-sdk/src/module.ts, `npm run build:sdk`): imported by a page
 * as a module, it sends events like the snippet does.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { browserPerFile, startStack, waitFor } from './support'

const browser = browserPerFile()

describe('the ESM build', () => {
  it('imports as a module and sends events through nudge.track', async () => {
    const stack = await startStack()
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../../web-sdk/src/module.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      minify: true,
      write: false,
    })
    const code = result.outputFiles[0]?.text ?? ''
    // Inline as a string: `<` escaped so the code cannot close the script element.
    const literal = JSON.stringify(code).replaceAll('<', '\\u003c')
    const init = JSON.stringify({
      writeKey: stack.site.writeKey,
      host: stack.apiUrl,
      live: false,
      flushAt: 1,
    })
    const url = stack.page(
      '/',
      `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">
const source = URL.createObjectURL(new Blob([${literal}], { type: 'text/javascript' }))
const { nudge } = await import(source)
nudge.init(${init})
await nudge.ready()
nudge.track('ProductViewed', { productId: 'esm-1' })
</script></body></html>`,
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(url)
    const log = await waitFor(stack.log, (events) => events.length >= 1)
    expect(log.map((e) => [e.type, (e.props as { productId?: string }).productId])).toEqual([
      ['ProductViewed', 'esm-1'],
    ])
    expect(errors).toEqual([])
    await context.close()
  })
})
