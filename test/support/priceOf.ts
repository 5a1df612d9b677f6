import { type RateCard, unitPrice } from '../../src/ledger/index.js'
import { meterStep } from '../../src/ledger/movements.js'
import { newAccount, T0 } from './ledgerCoreModel.js'

/**
 * The price of `quantity` units of `action` (0 for an empty poll or claim), as the engine
 * prices it: one step of `meterStep` on an account whose signup credit covers anything.
 */
export function priceOf(card: RateCard, action: string, quantity = 1): bigint {
  const price = unitPrice(card, action)
  if (price === undefined) throw new Error(`rate card ${card.version} has no price for ${action}`)
  const step = meterStep(
    newAccount(10n ** 15n),
    { action, quantity, unitPrice: price, now: T0 },
    { hold: false },
  )
  if (step.kind !== 'recorded') throw new Error(`${action} refused: ${step.decision.code}`)
  const a = step.amounts
  return a.voucher + (a.included ?? 0n) + (a.prepaid ?? 0n) + a.billable
}
