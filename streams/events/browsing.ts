/** @module Browsing facts: pages, product views and clicks, searches. */
import { z } from 'zod'
import { LIMITS, text, url } from '../envelope'
import { defineEvent } from './define'
import { product } from './product'

export const PageViewed = defineEvent(
  'PageViewed',
  1,
  z.object({
    name: text(LIMITS.nameLength).optional(),
    category: text(LIMITS.nameLength).optional(),
    path: url.optional(),
    title: text(LIMITS.nameLength).optional(),
    url: url.optional(),
  }),
  'a page was shown.',
)

export const ProductViewed = defineEvent(
  'ProductViewed',
  1,
  product,
  'a product was shown to the shopper (detail page or a tagged tile in view).',
)

export const ClickedProduct = defineEvent(
  'ClickedProduct',
  1,
  product.extend({ listId: text(LIMITS.idLength).optional() }),
  'the shopper clicked a product tile or link.',
)

export const SearchPerformed = defineEvent(
  'SearchPerformed',
  1,
  z.object({ query: text(LIMITS.nameLength) }),
  'the shopper searched the catalogue.',
)
