import {
  type Address,
  ContractFunctionExecutionError,
  type Hex,
  isAddressEqual,
  parseEventLogs,
} from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { revertName } from '../chain/revertName.js'
import { RetryableError } from '../core/errors.js'
import { applyChainTerms, getBillingSummary } from '../ledger/index.js'
import type { ChainWriter, SignedAuthorization } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { subscriptionKey } from './typedData.js'
import { verifyTerms } from './verifyTerms.js'

export type SubmitTermsParameters = {
  orgId: string
  subscriptionId: string
  owner: Address
  terms: NonNullable<SignedAuthorization['terms']>
}

/**
 * A new monthly limit on a live subscription whose allowance already covers it: the owner's
 * terms alone (one signature, no permit). Verifies them as the collector will, has the operator
 * send `setTerms` (recorded before broadcast, like every operator transaction), waits for
 * inclusion and applies the collector's limit and windows to the ledger.
 */
export async function submitTerms(
  w: ChainWriter,
  p: SubmitTermsParameters,
): Promise<{ txHash: Hex }> {
  const summary = await getBillingSummary(w.db, p.orgId)
  if (summary.subscriptionId !== p.subscriptionId)
    throw new SignatureRejectedError(
      'wrong_subscription',
      'this is not the org’s current subscription',
    )
  if (!summary.owner || !isAddressEqual(summary.owner as Address, p.owner))
    throw new SignatureRejectedError(
      'wrong_owner',
      'only the subscription’s owner wallet can change its terms',
    )
  // Only a live, covered subscription changes by terms alone; any other needs a new allowance.
  if (summary.state !== 'active')
    throw new SignatureRejectedError(
      'permit_required',
      'this subscription needs a new allowance: sign the USDC permit as well as the terms',
    )
  const d = w.deployment
  const key = subscriptionKey(p.subscriptionId)
  const onChain = await w.operator.readContract({
    address: d.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [key],
  })
  if (Number(onChain.status) !== 1)
    throw new SignatureRejectedError(
      'permit_required',
      'the collector holds no live subscription for this id: sign the USDC permit as well as the terms',
    )
  await verifyTerms(w, {
    subscriptionId: p.subscriptionId,
    owner: p.owner,
    terms: p.terms,
    onChain,
  })
  const { terms } = p
  const wallet = await operatorWalletFor(w.db, w.operator)
  for (let attempt = 1; ; attempt++) {
    let tx: Awaited<ReturnType<typeof wallet.sendContract>>
    try {
      tx = await wallet.sendContract({
        address: d.collector!,
        abi: collectorAbi,
        functionName: 'setTerms',
        args: [
          key,
          {
            cap: terms.cap,
            limit: terms.limit,
            period: terms.period,
            nonce: terms.nonce,
            deadline: terms.deadline,
          },
          terms.signature,
        ],
        purpose: `terms:${p.subscriptionId}`,
      })
    } catch (error) {
      // Only a refused estimate is a rejection; an RPC or broadcast failure is worth retrying.
      if (!(error instanceof ContractFunctionExecutionError))
        throw new RetryableError('the new terms could not be sent', { cause: error })
      const name = revertName(error)
      throw new SignatureRejectedError(
        name ?? 'reverted',
        `the collector refused the new terms${name ? ` (${name})` : ''}`,
      )
    }
    const receipt = await wallet.waitFor(tx)
    if (!receipt) {
      if (attempt < 3) continue
      throw new RetryableError('the terms transaction was superseded at its nonce', {
        cause: { tx_hashes: tx.hashes },
      })
    }
    if (receipt.status !== 'success')
      throw new SignatureRejectedError('reverted', 'the terms transaction reverted', {
        tx_hash: receipt.transactionHash,
      })
    const set = parseEventLogs({ abi: collectorAbi, logs: receipt.logs, eventName: 'TermsSet' })[0]
    // Terms equal to those in force emit nothing: the ledger already holds them.
    if (set)
      await applyChainTerms(w.db, {
        orgId: p.orgId,
        subscriptionId: p.subscriptionId,
        termsNonce: Number(set.args.nonce),
        windowStart: Number(set.args.start),
        windowSeconds: Number(set.args.period),
        monthlyLimit: set.args.limit === 0n ? null : set.args.limit,
        cause: 'owner',
        actor: p.owner,
      })
    return { txHash: receipt.transactionHash }
  }
}
