/**
 * @module The demo store's HTML: a catalogue of tagged product tiles, categories, search, a
 * cart with checkout, and a login whose userHash the server computes (as a real store backend
 * would). It talks to Nudge only through the README snippet, pasted unchanged but for the host
 * and write key, the data attributes, and `nudge.track` / `identify` / `reset` calls.
 */
import { readFileSync } from 'node:fs'
import { type DemoProduct, OTTO_ATTRIBUTION } from './catalog'

const SNIPPET = readFileSync(new URL('../../web-sdk/snippet.html', import.meta.url), 'utf8')

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  )
}

/** The README snippet with this server's origin and the demo site's write key. */
export function demoSnippet(host: string, writeKey: string): string {
  return SNIPPET.replace("'https://nudge.example.com'", JSON.stringify(host)).replace(
    "'wk_YOUR_WRITE_KEY'",
    JSON.stringify(writeKey),
  )
}

function tile(p: DemoProduct): string {
  return `<article class="tile" data-nudge-product-id="${escapeHtml(p.id)}" data-nudge-category="${escapeHtml(p.category)}" data-nudge-price="${p.price.toFixed(2)}" data-nudge-name="${escapeHtml(p.name)}">
  <div class="img" style="--h:${p.hue}" aria-hidden="true"><svg viewBox="0 0 64 64"><circle cx="32" cy="28" r="14"/><rect x="14" y="46" width="36" height="6" rx="3"/></svg></div>
  <h3>${escapeHtml(p.name)}</h3>
  <p class="meta">${escapeHtml(p.category)} · <span class="price">€${p.price.toFixed(2)}</span></p>
  <button type="button" class="add">Add to cart</button>
</article>`
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#222;background:#f6f6f4}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:12px 20px;background:#1d2b36;color:#fff}
header h1{font-size:18px;margin:0 12px 0 0}header form{display:flex;gap:6px}
input,button{font:inherit;padding:6px 10px;border-radius:6px;border:1px solid #bbb}
button{cursor:pointer;background:#fff}header .grow{flex:1}
nav{display:flex;gap:8px;flex-wrap:wrap;padding:12px 20px}nav button[aria-pressed=true]{background:#1d2b36;color:#fff}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px;padding:0 20px 20px}
.tile{background:#fff;border-radius:10px;padding:12px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.tile[hidden]{display:none}.tile h3{font-size:15px;margin:8px 0 2px}.meta{margin:0 0 8px;color:#555}
.img{height:140px;border-radius:8px;display:grid;place-items:center;
background:linear-gradient(135deg,hsl(var(--h) 70% 80%),hsl(calc(var(--h) + 40) 60% 60%))}
.img svg{width:64px;fill:rgba(255,255,255,.8)}
footer{padding:16px 20px;color:#555;font-size:13px}`

const SCRIPT = `
const $ = (s) => document.querySelector(s)
let cart = []
const user = () => localStorage.getItem('demo_user')
function renderUser() {
  $('#login').hidden = !!user(); $('#logout').hidden = !user()
  $('#who').textContent = user() ? 'Signed in as ' + user() : ''
}
function renderCart() {
  $('#cart-count').textContent = String(cart.length)
  $('#checkout').disabled = cart.length === 0
}
function lineOf(tile) {
  const d = tile.dataset
  return { productId: d.nudgeProductId, name: d.nudgeName, category: d.nudgeCategory, price: Number(d.nudgePrice), currency: 'EUR', quantity: 1 }
}
document.addEventListener('click', (e) => {
  const add = e.target.closest('.add')
  if (add) {
    const line = lineOf(add.closest('.tile'))
    cart.push(line)
    nudge.track('AddedToCart', line)
    renderCart()
  }
  const cat = e.target.closest('nav button')
  if (cat) {
    for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-pressed', String(b === cat))
    for (const t of document.querySelectorAll('.tile')) t.hidden = cat.value !== '' && t.dataset.nudgeCategory !== cat.value
    nudge.page({ category: cat.value || undefined, name: cat.value || 'All products' })
  }
})
$('#checkout').addEventListener('click', () => {
  const total = Math.round(cart.reduce((s, l) => s + l.price, 0) * 100) / 100
  const order = { products: cart, total, currency: 'EUR' }
  nudge.track('CheckoutStarted', order)
  nudge.track('OrderCompleted', { ...order, orderId: 'demo-' + Date.now() })
  cart = []
  renderCart()
  alert('Thank you! Order placed (a demo: nothing is charged).')
})
$('#search').addEventListener('submit', (e) => {
  e.preventDefault()
  const q = $('#q').value.trim().toLowerCase()
  if (q) nudge.track('SearchPerformed', { query: q })
  for (const t of document.querySelectorAll('.tile')) t.hidden = q !== '' && !t.dataset.nudgeName.toLowerCase().includes(q) && !t.dataset.nudgeCategory.toLowerCase().includes(q)
})
$('#login').addEventListener('submit', async (e) => {
  e.preventDefault()
  const userId = $('#user').value.trim()
  if (!userId) return
  // The store's backend proves who is logged in: it answers the userHash, never the secret.
  const res = await fetch('/demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) })
  if (!res.ok) { alert('Login failed: ' + (await res.text())); return }
  const { userHash } = await res.json()
  localStorage.setItem('demo_user', userId)
  nudge.identify(userId, { userHash, traits: { name: userId } })
  renderUser()
})
$('#logout').addEventListener('click', () => {
  localStorage.removeItem('demo_user')
  nudge.reset()
  renderUser()
})
renderUser(); renderCart()`

/**
 * The whole page.
 * @example demoPage({ host: 'http://localhost:3000', writeKey, products })
 */
export function demoPage(opts: {
  host: string
  writeKey: string
  products: DemoProduct[]
}): string {
  const categories = [...new Set(opts.products.map((p) => p.category))].sort()
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Nudge demo store</title><link rel="icon" href="data:,"><style>${STYLE}</style>
${demoSnippet(opts.host, opts.writeKey)}
</head><body>
<header><h1>Nudge demo store</h1>
<form id="search" role="search"><input id="q" type="search" placeholder="Search" aria-label="Search products"><button>Search</button></form>
<span class="grow"></span><span id="who"></span>
<form id="login"><input id="user" placeholder="user id, e.g. alice" aria-label="User id" autocomplete="username"><button>Log in</button></form>
<button id="logout" type="button" hidden>Log out</button>
<button id="checkout" type="button">Checkout (<span id="cart-count">0</span>)</button></header>
<nav aria-label="Categories"><button type="button" value="" aria-pressed="true">All</button>${categories.map((c) => `<button type="button" value="${escapeHtml(c)}" aria-pressed="false">${escapeHtml(c)}</button>`).join('')}</nav>
<main>${opts.products.map(tile).join('\n')}</main>
<footer><p>Every view, click, cart and order above goes to Nudge through the snippet and the <code>data-nudge-*</code> attributes: watch <code>/v1/events</code> in the browser's network panel. Offers matching the site's rules appear in the corner.</p>
<p>${escapeHtml(OTTO_ATTRIBUTION)}</p></footer>
<script>${SCRIPT}</script>
</body></html>`
}
