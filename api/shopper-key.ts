/**
 * @module The shopper a read endpoint is about, as the store knows them: `u:<userId>` for a
 * signed-in user, `a:<anonymousId>` for a visitor (the id the browser SDK made). Internally a
 * profile is scoped by site (streams/partition.ts `profileKey`), so a caller can only ever
 * name shoppers of the site whose secret it holds.
 */
import { z } from 'zod'
import { idString } from '../streams/envelope'
import { profileKey } from '../streams/partition'

/** Why a shopper key is refused; used as the 400 reason. */
export const SHOPPER_KEY_REASON =
  'expected u:<userId> or a:<anonymousId> (1 to 128 printable ASCII characters after the prefix)'

export const shopperKey = z
  .string()
  .refine(
    (raw) =>
      (raw.startsWith('u:') || raw.startsWith('a:')) && idString.safeParse(raw.slice(2)).success,
    { message: SHOPPER_KEY_REASON },
  )

/**
 * The stored profile key of a valid shopper key on a site.
 * @example profileKeyOf('sit_1', 'u:42') // 'sit_1:u:42'
 */
export function profileKeyOf(siteId: string, shopper: string): string {
  const id = shopper.slice(2)
  return shopper.startsWith('u:')
    ? profileKey(siteId, { userId: id, verified: true })
    : profileKey(siteId, { anonymousId: id, verified: false })
}
