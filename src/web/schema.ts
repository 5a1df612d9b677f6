import { pgTable, text, timestamp } from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/**
 * Subscriptions whose owner made the payment history public: anyone with the subscription id
 * may then read `/s/<id>/history` (HTML and JSON). No row means private, the default. Each
 * change is made by the owner's signed-in wallet and recorded with it.
 */
export const publicHistory = pgTable('public_history', {
  subscriptionId: text('subscription_id').primaryKey(),
  /** Lower-case address of the owner wallet that made it public. */
  enabledBy: text('enabled_by').notNull(),
  enabledAt: ts('enabled_at').notNull().defaultNow(),
})
