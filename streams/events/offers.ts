/** @module Offer outcome facts, sent back by the SDK (through the gateway) as acks. */
import { z } from 'zod'
import { idString } from '../envelope'
import { defineEvent } from './define'

const offerRef = z.object({
  offerId: idString.describe('The id of the offer frame (ofr_…).'),
  ruleId: idString.optional(),
  ruleVersion: z.number().int().min(1).max(1_000_000).optional(),
})

export const OfferShown = defineEvent('OfferShown', 1, offerRef, 'an offer was displayed.')
export const OfferClicked = defineEvent(
  'OfferClicked',
  1,
  offerRef,
  'an offer’s call to action was clicked.',
)
export const OfferDismissed = defineEvent('OfferDismissed', 1, offerRef, 'an offer was closed.')
