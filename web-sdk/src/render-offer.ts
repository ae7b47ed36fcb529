/**
 * @module The default offer toast: a small card fixed to the bottom corner, in a shadow root so
 * the store's CSS cannot break it and it cannot break the store's. Accessible: `role="status"`
 * (announced politely), a real close button, Escape dismisses. Fixed position, so no layout
 * shift; it animates only when the shopper has not asked for reduced motion.
 *
 * Offer text is untrusted input: it is set with textContent only, never parsed as HTML, and a
 * link is made only for an http(s) URL (streams/offers.ts, the same rule on the server).
 */

/** What the toast needs of an offer (the `offer` frame of streams/live.ts). */
export type Offer = {
  id: string
  ruleId?: string
  title: string
  body: string
  cta?: { label: string; url: string }
  code?: string
  expiresAt?: number
}

export type OfferOutcome = 'shown' | 'clicked' | 'dismissed'

const CSS = `
:host{all:initial}
.t{position:fixed;right:16px;bottom:16px;z-index:2147483647;max-width:320px;box-sizing:border-box;
padding:14px 40px 14px 16px;border-radius:10px;background:#fff;color:#1a1a1a;
font:14px/1.4 system-ui,sans-serif;box-shadow:0 6px 24px rgba(0,0,0,.18)}
@media (prefers-reduced-motion:no-preference){.t{animation:in .25s ease-out}}
@keyframes in{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}
.h{font-weight:600;margin:0 0 4px}.b{margin:0 0 8px}
.c{display:inline-block;margin:0 0 8px;padding:2px 6px;border:1px dashed #888;font-family:monospace}
a{display:inline-block;padding:6px 12px;border-radius:6px;background:#1a5fb4;color:#fff;text-decoration:none}
button{position:absolute;top:6px;right:6px;width:28px;height:28px;border:0;background:none;
font-size:18px;cursor:pointer;color:#555}
a:focus-visible,button:focus-visible{outline:2px solid #1a5fb4;outline-offset:2px}`

/** True for an absolute http(s) URL; anything else (javascript:, data:, relative) is refused. */
export function isHttpUrl(raw: unknown): raw is string {
  if (typeof raw !== 'string' || !/^https?:\/\//i.test(raw)) {
    return false
  }
  try {
    return /^https?:$/.test(new URL(raw).protocol)
  } catch {
    return false
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  node.className = className
  if (text !== undefined) {
    node.textContent = text
  }
  return node
}

/**
 * Shows the toast (replacing one already shown) and reports what the shopper did.
 * @example renderOffer(offer, (outcome) => ack(offer.id, outcome))
 */
export function renderOffer(offer: Offer, report: (outcome: OfferOutcome) => void): void {
  document.querySelector('[data-nudge-offer]')?.remove()
  const host = document.createElement('div')
  host.setAttribute('data-nudge-offer', offer.id)
  const root = host.attachShadow({ mode: 'open' })
  const style = document.createElement('style')
  style.textContent = CSS
  const card = el('div', 't')
  card.setAttribute('role', 'status')
  card.setAttribute('aria-live', 'polite')
  card.append(el('p', 'h', offer.title), el('p', 'b', offer.body))
  if (offer.code) {
    card.append(el('span', 'c', offer.code), document.createElement('br'))
  }
  if (offer.cta && isHttpUrl(offer.cta.url)) {
    const link = el('a', '', offer.cta.label)
    link.href = offer.cta.url
    link.rel = 'noopener'
    link.addEventListener('click', () => report('clicked'))
    card.append(link)
  }
  const close = el('button', '', '×')
  close.type = 'button'
  close.setAttribute('aria-label', 'Dismiss offer')
  const dismiss = () => {
    host.remove()
    report('dismissed')
  }
  close.addEventListener('click', dismiss)
  card.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      dismiss()
    }
  })
  card.append(close)
  root.append(style, card)
  const parent = document.body ?? document.documentElement
  parent.append(host)
  report('shown')
}
