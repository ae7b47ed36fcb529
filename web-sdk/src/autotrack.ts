/**
 * @module Auto-tracking of tagged products, with no code on the store's side:
 *
 * - ProductViewed when an element with `data-nudge-product-id` has been at least half visible
 *   for one second (one IntersectionObserver for the page; once per element per page view);
 * - ClickedProduct on a click inside such an element (one delegated listener on the document,
 *   so no per-product listeners and nothing to rebind when the store re-renders).
 *
 * Optional attributes: `data-nudge-category`, `data-nudge-price` (a number), `data-nudge-name`.
 * Elements added later (infinite scroll, client-side routing) are picked up by a
 * MutationObserver.
 */

export const VIEW_RATIO = 0.5
export const VIEW_MS = 1_000
const ATTR = 'data-nudge-product-id'

export type ProductProps = { productId: string; category?: string; price?: number; name?: string }

/** The product an element describes, or undefined when its id is missing or empty. */
export function productOf(el: Element): ProductProps | undefined {
  const productId = el.getAttribute(ATTR)?.trim()
  if (!productId) {
    return undefined
  }
  const props: ProductProps = { productId: productId.slice(0, 128) }
  const category = el.getAttribute('data-nudge-category')
  if (category) {
    props.category = category.slice(0, 256)
  }
  const name = el.getAttribute('data-nudge-name')
  if (name) {
    props.name = name.slice(0, 256)
  }
  const price = Number.parseFloat(el.getAttribute('data-nudge-price') ?? '')
  if (Number.isFinite(price) && price >= 0) {
    props.price = price
  }
  return props
}

/**
 * Starts auto-tracking; returns a function that stops it.
 * @example const stop = startAutotrack((type, props) => track(type, props))
 */
export function startAutotrack(
  emit: (type: 'ProductViewed' | 'ClickedProduct', props: ProductProps) => void,
): () => void {
  const seen = new WeakSet<Element>()
  /** Elements in view now → when they came into view. */
  const since = new Map<Element, number>()
  let timer: ReturnType<typeof setTimeout> | undefined

  // One timer for all elements in view (not one each): a page of tiles scrolling into view
  // costs one task a second later, which emits every view that is due.
  const check = () => {
    timer = undefined
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const [el, at] of since) {
      if (now - at >= VIEW_MS) {
        since.delete(el)
        seen.add(el)
        io?.unobserve(el)
        const props = productOf(el)
        if (props) {
          emit('ProductViewed', props)
        }
      } else {
        next = Math.min(next, at + VIEW_MS)
      }
    }
    if (next !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(check, next - now)
    }
  }

  const io =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            const now = Date.now()
            for (const entry of entries) {
              const el = entry.target
              if (entry.isIntersecting && entry.intersectionRatio >= VIEW_RATIO) {
                if (!since.has(el) && !seen.has(el)) {
                  since.set(el, now)
                }
              } else {
                since.delete(el)
              }
            }
            if (timer === undefined && since.size > 0) {
              timer = setTimeout(check, VIEW_MS)
            }
          },
          { threshold: [0, VIEW_RATIO] },
        )
      : undefined

  const observe = (root: ParentNode) => {
    if (!io) {
      return
    }
    if (root instanceof Element && root.hasAttribute(ATTR) && !seen.has(root)) {
      io.observe(root)
    }
    root.querySelectorAll(`[${ATTR}]`).forEach((el) => {
      if (!seen.has(el)) {
        io.observe(el)
      }
    })
  }

  const onClick = (event: Event) => {
    const target = event.target
    const el = target instanceof Element ? target.closest(`[${ATTR}]`) : null
    const props = el && productOf(el)
    if (props) {
      emit('ClickedProduct', props)
    }
  }

  observe(document)
  const mo =
    typeof MutationObserver === 'function'
      ? new MutationObserver((records) => {
          for (const record of records) {
            record.addedNodes.forEach((node) => {
              if (node instanceof Element) {
                observe(node)
              }
            })
          }
        })
      : undefined
  mo?.observe(document.documentElement, { childList: true, subtree: true })
  // Capture phase: the click is seen even when the store stops its propagation.
  document.addEventListener('click', onClick, true)

  return () => {
    io?.disconnect()
    mo?.disconnect()
    document.removeEventListener('click', onClick, true)
    clearTimeout(timer)
    since.clear()
  }
}
