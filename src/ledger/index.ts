// The ledger's public API: what the API, settlement, web and CLI call. Everything here takes
// the database first and one parameters object; money is bigint micro-credits.

export { adjustBalance } from './adjustBalance.js'
export { applyChainTerms } from './applyChainTerms.js'
export {
  clearAutoTopUp,
  listDueAutoTopUps,
  readAutoTopUp,
  setAutoTopUp,
} from './autoTopUp.js'
export {
  BUDGET_PERIODS,
  type BudgetView,
  clearBudget,
  setBudget,
  showBudgets,
} from './budgets.js'
export { carryChargeIntoWindow } from './carryChargeIntoWindow.js'
export { carryUnchargedIntoWindow } from './carryUnchargedIntoWindow.js'
export {
  bookCharges,
  listCharges,
  markChargeCollected,
  markChargeFailed,
  writeOffCharge,
} from './charges.js'
export { type ClaimedCharge, claimCharges } from './claimCharges.js'
export { creditPrepaid } from './creditPrepaid.js'
export { decide } from './decide.js'
export { describeLedgerEntry } from './describeLedgerEntry.js'
// What the verbs above throw, for callers that tell refusals apart (`instanceof`); the API
// answers by code, so some have no caller in src/ (knip: @public).
export {
  /** @public */
  BillingInactiveError,
  IdempotencyConflictError,
  NoBillingAccountError,
  /** @public */
  SpendCapReachedError,
  TopUpRefusedError,
  UnknownActionError,
  /** @public */
  UsageStateError,
} from './errors.js'
export { getBillingSummary } from './getBillingSummary.js'
export { listAccruedAccounts } from './listAccruedAccounts.js'
export { listLedgerEntries } from './listLedgerEntries.js'
export { lowerAllowance } from './lowerAllowance.js'
/** @public The shape of `meter.meter`'s argument, for callers that build it apart. */
export type { MeterParameters } from './meter/types.js'
export { createMeter, type Meter, type MeterOutcome } from './meter.js'
export { moveChargeWindow } from './moveChargeWindow.js'
export { openBillingAccountIn } from './openBillingAccount.js'
export { detachMonthsBefore } from './partitions/detachMonthsBefore.js'
export { ensureMonthPartitions } from './partitions/ensureMonthPartitions.js'
export { type PlanView, setPlan, showPlan } from './plans.js'
export {
  editAction,
  formatUsd,
  parseRateCard,
  type RateCard,
  tierOf,
  unitPrice,
} from './rateCard.js'
export { reconcileCharges } from './reconcileCharges.js'
export { type LedgerMismatch, reconcileLedger } from './reconcileLedger.js'
export { recordChargesTxHash } from './recordChargesTxHash.js'
export {
  listRefundPayouts,
  recordRefundPaid,
  recordRefundPayoutFailed,
  startRefundPayout,
} from './refundPayouts.js'
export { refund } from './refunds.js'
export { releaseCharges } from './releaseCharges.js'
export { requestTopUp } from './requestTopUp.js'
export { commitUsage, expireReservations, voidUsage } from './reservations.js'
export { setBillingMode } from './setBillingMode.js'
export { listStatementRefunds, type StatementRefund } from './statementRefunds.js'
export { listStatementCharges, readChargeLines, type StatementCharge } from './statements.js'
export { listTopUps, type TopUp } from './topUps.js'
export { readUsageRollup, type UsageTotals } from './usageRollup.js'
