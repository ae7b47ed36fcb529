/**
 * @module The demo store's catalogue, built from real shopping data: the most-interacted items
 * of data/otto-sample.jsonl — the first 20 sessions of the OTTO RecSys dataset
 * (github.com/otto-de/recsys-dataset, CC BY 4.0, © OTTO (GmbH & Co KG); see
 * test/fixtures/README.md). OTTO publishes item ids only, so the ids and their popularity are
 * OTTO's, while names, categories and prices are made up here, deterministically per item.
 * Keep this attribution wherever the catalogue is shown (the demo page's footer repeats it).
 */
import { readFileSync } from 'node:fs'

export const OTTO_ATTRIBUTION =
  'Product ids and popularity: OTTO RecSys dataset, © OTTO (GmbH & Co KG), CC BY 4.0. Names, categories and prices are made up.'

export type DemoProduct = {
  id: string
  name: string
  category: string
  price: number
  /** Hue of the product's drawn "photo" (0–359). */
  hue: number
}

const CATEGORIES: Record<string, string[]> = {
  Shoes: ['Trail Runner', 'Canvas Sneaker', 'Leather Boot', 'Sandal'],
  Jackets: ['Rain Shell', 'Down Parka', 'Denim Jacket', 'Fleece'],
  Bags: ['Day Pack', 'Tote', 'Weekender', 'Sling Bag'],
  Home: ['Linen Throw', 'Desk Lamp', 'Ceramic Mug', 'Wool Rug'],
  Kitchen: ['Chef Knife', 'Cast Pan', 'Kettle', 'Spice Rack'],
  Toys: ['Wooden Train', 'Puzzle Box', 'Plush Fox', 'Kite'],
}
const ADJECTIVES = ['Classic', 'Nordic', 'Urban', 'Coastal', 'Alpine', 'Studio', 'Everyday']

/**
 * The `count` items with the most clicks, carts and orders in the sample, most popular first.
 * @example const products = demoCatalog(24)
 */
export function demoCatalog(
  count: number,
  path: URL = new URL('../../data/otto-sample.jsonl', import.meta.url),
): DemoProduct[] {
  const weight = new Map<number, number>()
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') {
      continue
    }
    const session = JSON.parse(line) as { events: { aid: number; type: string }[] }
    for (const e of session.events) {
      const w = e.type === 'orders' ? 5 : e.type === 'carts' ? 3 : 1
      weight.set(e.aid, (weight.get(e.aid) ?? 0) + w)
    }
  }
  const names = Object.keys(CATEGORIES)
  return [...weight.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, count)
    .map(([aid], rank) => {
      // Round-robin by popularity, so every category has as many products.
      const category = names[rank % names.length] ?? 'Home'
      const nouns = CATEGORIES[category] ?? ['Item']
      return {
        id: String(aid),
        name: `${ADJECTIVES[Math.floor(aid / 7) % ADJECTIVES.length]} ${nouns[Math.floor(aid / 3) % nouns.length]}`,
        category,
        price: Math.round((9 + (aid % 191)) * 100 - 1) / 100,
        hue: aid % 360,
      }
    })
}
