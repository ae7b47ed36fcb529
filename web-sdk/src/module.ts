/**
 * @module The ESM entry, for stores that bundle their front end: the same client as `/sdk.js`,
 * imported instead of loaded by the snippet. `npm run build:sdk` writes it to
 * `web-sdk/dist/nudge.mjs` with its types (`web-sdk/dist/module.d.ts`), exported by
 * `web-sdk/package.json`.
 *
 * Pass `host` to init: unlike the snippet there is no script URL to take it from, so it
 * defaults to the page's own origin.
 * @example import { nudge } from '@nudge/web-sdk'; nudge.init({ writeKey, host: 'https://nudge.shop.example' })
 */
import { createClient, type InitOptions, type OfferCallback } from './client'

export type { Offer } from './render-offer'
export type { InitOptions, OfferCallback }

/** Properties of an event: plain JSON values (see the event schemas at GET /v1/schemas). */
export type Props = Record<string, unknown>

const client = createClient(typeof location === 'undefined' ? '' : location.origin)

/** The public surface, as on `window.nudge`. Nothing throws into the page. */
export const nudge = {
  init: (options: InitOptions): void => void client.call('init', [options]),
  track: (type: string, props?: Props): void => void client.call('track', [type, props]),
  identify: (userId: string, options?: { userHash?: string; traits?: Props }): void =>
    void client.call('identify', [userId, options]),
  page: (props?: Props): void => void client.call('page', [props]),
  reset: (): void => void client.call('reset', []),
  consent: (granted: boolean): void => void client.call('consent', [granted]),
  onOffer: (callback: OfferCallback): void => void client.call('onOffer', [callback]),
  ready: (callback?: () => void): Promise<void> =>
    (client.call('ready', [callback]) as Promise<void> | undefined) ?? Promise.resolve(),
}
