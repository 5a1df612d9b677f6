import type { SignerClient } from '../chain/clients.js'
import type { Deployment } from '../chain/deployment.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../core/log.js'
import type { PrepaidPackage } from '../core/prepaidPackages.js'
import type { Db } from '../db/client.js'

/** What settlement needs: the database, an operator the collector trusts, and the deployment. */
export type SettlementContext = {
  db: Db
  operator: SignerClient
  deployment: Deployment
  log?: Logger | undefined
  /** Billing threshold and max age, in micro-credits and seconds. */
  thresholdMicros: bigint
  maxAccrualAgeSeconds: number
  /** Confirmations before a collection counts. */
  confirmations: number
  /** The operator's prepaid packages: an auto top-up of a package's price earns its bonus. */
  prepaidPackages?: readonly PrepaidPackage[] | undefined
  /** Most blocks per log read (the RPC's cap); 2,000 when unset. */
  maxLogRange?: bigint | undefined
  /** Replace a batch transaction not mined after this long (default 60 s). */
  replaceAfterMs?: number
  /** Most charges in one collectBatch transaction. */
  batchSize?: number
  /**
   * Called at each recorded step of a batch — claimed (intent recorded), signed (transaction
   * recorded, not yet broadcast), sent, receipt — for progress and fault tests.
   */
  onStep?: ((step: 'claimed' | 'signed' | 'sent' | 'receipt') => void | Promise<void>) | undefined
}

/** The collector's failure reasons (ICollector.FailureReason), by number. */
export const failureReasons = [
  'none',
  'unknown_subscription',
  'canceled',
  'seq_used',
  'seq_gap',
  'window',
  'limit',
  'amount',
  'paused',
  'blacklisted',
  'allowance',
  'balance',
  'token_reverted',
  'cap',
] as const
export type FailureReason = (typeof failureReasons)[number]

/** What a failed pull means for the subscription (docs/design.md, Subscription states). */
export function stateForFailure(
  reason: FailureReason,
): 'needs_reauth' | 'lapsed' | 'canceled' | null {
  switch (reason) {
    // The gate never books past the allowance the ledger knows, so a pull the token refuses
    // for allowance means the owner revoked or cut it on-chain: a failed pull, recoverable by re-up.
    case 'allowance':
    case 'balance':
    case 'blacklisted':
    case 'paused':
    case 'token_reverted':
      return 'lapsed'
    // Past the lifetime cap the owner signed: nothing more is collectable until they raise it.
    case 'cap':
      return 'needs_reauth'
    case 'canceled':
      return 'canceled'
    default:
      return null
  }
}

/** Unpacks a `Collected` event's data word: seq | window<<32 | amount<<64 | inWindow<<128 | total<<192. */
export function unpackCollected(packed: bigint) {
  const mask32 = (1n << 32n) - 1n
  const mask64 = (1n << 64n) - 1n
  return {
    seq: Number(packed & mask32),
    window: Number((packed >> 32n) & mask32),
    amount: (packed >> 64n) & mask64,
    collectedInWindow: (packed >> 128n) & mask64,
    totalCollected: (packed >> 192n) & mask64,
  }
}

/** Settlement's context from the config and a connected chain. */
export function settlementContextFor(
  config: Config,
  db: Db,
  chain: { operator: SignerClient; deployment: Deployment },
  log?: Logger,
): SettlementContext {
  return {
    db,
    operator: chain.operator,
    deployment: chain.deployment,
    log,
    thresholdMicros: config.billing.thresholdMicros,
    maxAccrualAgeSeconds: config.billing.maxAccrualAgeSeconds,
    confirmations: config.chain.confirmations,
    prepaidPackages: config.billing.prepaidPackages,
    maxLogRange: config.chain.maxLogRange,
  }
}
