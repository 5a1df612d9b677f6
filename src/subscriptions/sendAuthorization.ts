import {
  ContractFunctionExecutionError,
  type Hex,
  parseEventLogs,
  type TransactionReceipt,
} from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { type OperatorTx, operatorWalletFor } from '../chain/operatorWallet.js'
import { revertName } from '../chain/revertName.js'
import { RetryableError } from '../core/errors.js'
import type { ChainWriter, SignedAuthorization } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { recordAuthorization } from './recordAuthorization.js'
import { setSubscriptionState } from './state/authorizeSubscription.js'
import type { TransitionCause } from './state/states.js'
import { subscriptionKey } from './typedData.js'

export type SendAuthorizationParameters = {
  orgId: string
  subscriptionId: string
  /** Verified already (`verifyAuthorization`): this only sends and records. */
  auth: SignedAuthorization
  /** The subscription's state before sending: an active one whose permit nonce was used goes needs_reauth. */
  state: string
  /** Who caused the move to active: the owner signing now, or settlement sending a held authorization. */
  cause: TransitionCause
  /**
   * For a permit alone (a top-up): the owner's lifetime cap as they chose it. The collector sets
   * the cap to what it collected plus the permit's value, or this if lower, so a pull that lands
   * while the permit is in flight cannot take the owner past it. Default: none.
   */
  maxCap?: bigint | undefined
}

export type SendAuthorizationReturnType = {
  txHash: Hex
  allowance: bigint
  /** The collector's windows after this transaction (seconds). */
  windowStart: number | undefined
  windowSeconds: number | undefined
}

const MAX_UINT64 = 2n ** 64n - 1n

/**
 * Has the operator send a verified authorization — `authorize`, or `authorizeWithTerms` with
 * terms — waits for inclusion, and records it in the ledger: `active` with the allowance and the
 * collector's windows (from its `Authorized` / `TermsSet` events). The one sending path for an
 * owner signing now and for a held counterfactual authorization sent when its first charge is due.
 */
export async function sendAuthorization(
  w: ChainWriter,
  p: SendAuthorizationParameters,
): Promise<SendAuthorizationReturnType> {
  const { auth } = p
  const d = w.deployment
  const key = subscriptionKey(p.subscriptionId)
  const permit = {
    value: auth.permit.value,
    deadline: auth.permit.deadline,
    nonce: auth.permit.nonce,
  }
  const wallet = await operatorWalletFor(w.db, w.operator)
  // A nonce taken by a transaction we never recorded means nothing of ours landed (the permit
  // is unused): send again, a few times, before giving up as retryable.
  for (let attempt = 1; ; attempt++) {
    const tx = await send()
    const receipt = await wallet.waitFor(tx)
    if (!receipt) {
      if (attempt < 3) continue
      throw new RetryableError('the authorization transaction was superseded at its nonce', {
        cause: { tx_hashes: tx.hashes },
      })
    }
    if (receipt.status !== 'success')
      throw new SignatureRejectedError('reverted', 'the authorization transaction reverted', {
        tx_hash: receipt.transactionHash,
        gas_used: receipt.gasUsed.toString(),
      })
    return await record(receipt)
  }

  async function send(): Promise<OperatorTx> {
    try {
      // Signed and recorded before broadcast (operator_txs), like every operator transaction.
      return auth.terms
        ? await wallet.sendContract({
            address: d.collector!,
            abi: collectorAbi,
            functionName: 'authorizeWithTerms',
            args: [
              key,
              auth.owner,
              permit,
              auth.permit.signature,
              {
                cap: auth.terms.cap,
                limit: auth.terms.limit,
                period: auth.terms.period,
                nonce: auth.terms.nonce,
                deadline: auth.terms.deadline,
              },
              auth.terms.signature,
            ],
            purpose: `authorize:${p.subscriptionId}`,
          })
        : await wallet.sendContract({
            address: d.collector!,
            abi: collectorAbi,
            functionName: 'authorize',
            args: [
              key,
              auth.owner,
              permit,
              auth.permit.signature,
              p.maxCap !== undefined && p.maxCap < MAX_UINT64 ? p.maxCap : MAX_UINT64,
            ],
            purpose: `authorize:${p.subscriptionId}`,
          })
    } catch (error) {
      // Only a refused estimate is a rejection; an RPC or broadcast failure is worth retrying.
      if (!(error instanceof ContractFunctionExecutionError))
        throw new RetryableError('the authorization could not be sent', { cause: error })
      const name = revertName(error)
      if (name === 'PermitNonceUsed' && p.state === 'active') {
        await setSubscriptionState(w.db, {
          subscriptionId: p.subscriptionId,
          to: 'needs_reauth',
          cause: 'chain',
          reason: 'permit_nonce_used',
        })
      }
      throw new SignatureRejectedError(
        name ?? 'reverted',
        `the collector refused the authorization${name ? ` (${name})` : ''}`,
      )
    }
  }

  async function record(receipt: TransactionReceipt): Promise<SendAuthorizationReturnType> {
    const hash = receipt.transactionHash
    const logs = parseEventLogs({ abi: collectorAbi, logs: receipt.logs })
    const authorized = logs.find((l) => l.eventName === 'Authorized')?.args as
      | { allowance: bigint; start: number; period: number }
      | undefined
    // Terms with another period restart the windows: their event has the last word.
    const termsSet = logs.find((l) => l.eventName === 'TermsSet')?.args as
      | { start: number; period: number }
      | undefined
    const windows = termsSet ?? authorized
    // What can still be pulled is the allowance, or less when the lifetime cap (the terms', or the
    // top-up's bound) leaves less: the ledger must never let the owner book past the cap.
    const onChain = await w.operator.readContract({
      address: d.collector!,
      abi: collectorAbi,
      functionName: 'getSubscription',
      args: [key],
      blockNumber: receipt.blockNumber,
    })
    const granted = authorized?.allowance ?? auth.permit.value
    const underCap =
      onChain.cap > onChain.totalCollected ? onChain.cap - onChain.totalCollected : 0n
    const allowance = granted < underCap ? granted : underCap
    const windowStart = windows ? Number(windows.start) : undefined
    const windowSeconds = windows ? Number(windows.period) : undefined
    await recordAuthorization(w.db, {
      orgId: p.orgId,
      subscriptionId: p.subscriptionId,
      auth,
      allowance,
      windowStart,
      windowSeconds,
      cause: p.cause,
    })
    return { txHash: hash, allowance, windowStart, windowSeconds }
  }
}
