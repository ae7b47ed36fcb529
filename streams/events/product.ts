/** @module Shared product and order line shapes (e-commerce spec v2 field names, camelCased). */
import { z } from 'zod'
import { LIMITS, text, url } from '../envelope'

export const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR')
export const money = z.number().min(0).max(1e9)

export const product = z.object({
  productId: z.string().min(1).max(LIMITS.idLength),
  sku: text(LIMITS.idLength).optional(),
  name: text(LIMITS.nameLength).optional(),
  category: text(LIMITS.nameLength).optional().describe('"Shoes" or a path like "Apparel/Shoes".'),
  brand: text(LIMITS.nameLength).optional(),
  variant: text(LIMITS.nameLength).optional(),
  price: money.optional(),
  currency: currency.optional(),
  quantity: z.number().int().min(1).max(10_000).optional(),
  position: z.number().int().min(0).max(10_000).optional(),
  url: url.optional(),
  imageUrl: url.optional(),
})

export const order = z.object({
  orderId: z.string().min(1).max(LIMITS.idLength).optional(),
  total: money.optional(),
  revenue: money.optional(),
  shipping: money.optional(),
  tax: money.optional(),
  discount: money.optional(),
  coupon: text(LIMITS.nameLength).optional(),
  currency: currency.optional(),
  products: z.array(product).max(LIMITS.productsPerEvent).default([]),
})
