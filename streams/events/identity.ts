/** @module Identity facts: a shopper logged in or out. */
import { z } from 'zod'
import { freeProperties, text } from '../envelope'
import { defineEvent } from './define'

export const UserLoggedIn = defineEvent(
  'UserLoggedIn',
  1,
  z.object({
    method: text(64).optional(),
    traits: freeProperties
      .optional()
      .describe('What the store knows of the user (Segment traits).'),
  }),
  'a shopper signed in; with a proven userId the anonymous profile merges into the user.',
)

export const UserLoggedOut = defineEvent('UserLoggedOut', 1, z.object({}), 'a shopper signed out.')
