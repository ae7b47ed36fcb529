/** @module Cart and order facts. */
import { z } from 'zod'
import { LIMITS, text } from '../envelope'
import { defineEvent } from './define'
import { order, product } from './product'

const cartLine = product.extend({ cartId: text(LIMITS.idLength).optional() })

export const AddedToCart = defineEvent('AddedToCart', 1, cartLine, 'a product went into the cart.')

export const RemovedFromCart = defineEvent(
  'RemovedFromCart',
  1,
  cartLine,
  'a product left the cart.',
)

export const CheckoutStarted = defineEvent('CheckoutStarted', 1, order, 'checkout began.')

export const OrderCompleted = defineEvent(
  'OrderCompleted',
  1,
  order.extend({ orderId: z.string().min(1).max(LIMITS.idLength) }),
  'an order was placed; orderId is required.',
)
