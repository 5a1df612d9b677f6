import { z } from 'zod'
import { displayName, text } from '../../core/text.js'
import { addressRe, mailableKinds } from '../../notifications/emailSettings.js'
import { eventTypes } from '../../notifications/events.js'

const cursor = z
  .string()
  .regex(/^\d{1,19}$/)
  .optional()

export const eventsQuery = z.object({
  before: cursor,
  after: cursor,
  limit: z.coerce.number().int().min(1).max(500).optional(),
  type: text()
    .max(500)
    .refine(
      (v) => v.split(',').every((t) => (eventTypes as readonly string[]).includes(t)),
      `each type one of ${eventTypes.join(', ')}`,
    )
    .optional(),
})

const types = z.array(z.enum(eventTypes)).max(eventTypes.length)

/** An endpoint's address: an http(s) URL (the service checks it further: https in production). */
const endpointUrl = z.url({ protocol: /^https?$/ }).max(2_000)

export const endpointBody = z.strictObject({
  url: endpointUrl,
  description: displayName().max(200).optional(),
  event_types: types.optional(),
})

export const endpointPatch = z.strictObject({
  url: endpointUrl.optional(),
  description: displayName().max(200).optional(),
  event_types: types.optional(),
  enabled: z.boolean().optional(),
})

export const rotateBody = z.strictObject({
  overlap_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional(),
})

export const redeliverBody = z.strictObject({ event_id: z.string().regex(/^evt_[0-9a-f]{32}$/) })

export const emailBody = z.strictObject({
  address: z.string().max(254).regex(addressRe, 'an email address'),
  /** The kinds mailed; absent: all of them. */
  kinds: z
    .array(z.enum(mailableKinds as [string, ...string[]]))
    .max(mailableKinds.length)
    .optional(),
})
