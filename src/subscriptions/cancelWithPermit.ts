import { type Address, ContractFunctionRevertedError, getAddress, type Hex } from 'viem'
import { verifyOwnerSignature } from '../aa/verifyOwnerSignature.js'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { revertName } from '../chain/revertName.js'
import { RetryableError } from '../core/errors.js'
import { bookCharges, getBillingSummary, listCharges, writeOffCharge } from '../ledger/index.js'
import type { LifecycleContext } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { dropHeldAuthorization, getUnsubmittedHeld } from './heldAuthorizations.js'
import { setSubscriptionState } from './state/authorizeSubscription.js'
import { withHeldLock } from './submitHeldAuthorization.js'
import { cancelPermitTypedData, subscriptionKey } from './typedData.js'

/**
 * The least time a cancel signature must have left before settlement starts: collecting what is
 * accrued and then sending the cancel must fit in it, or nothing is started at all.
 *
 * @internal Exported so the cancel-order test sets its deadline from the rule, not a copy of it.
 */
export const CANCEL_MIN_SECONDS_LEFT = 120
/** The least time it must still have left once accrued usage is collected, to send the cancel. */
const CANCEL_SEND_SECONDS_LEFT = 20

export type CancelWithPermitParameters = {
  orgId: string
  subscriptionId: string
  /** The owner's zero-value permit for the collector: its deadline, token nonce and signature. */
  deadline: bigint
  nonce: bigint
  signature: Hex
  /**
   * Collects what is accrued before the cancel is sent, once the signature is verified and the
   * cancel simulated, for a subscription open on-chain; returns how many charges it collected.
   * The caller brings it (settlement's `cancelSubscription`): the lifecycle does not settle.
   */
  collectFirst?: (() => Promise<{ collected: number }>) | undefined
}

export type CancelWithPermitReturnType = {
  /** The cancel transaction; null when the collector had it canceled already. */
  txHash: Hex | null
  collected: number
  writtenOff: Array<{ chargeId: string; amount: bigint; reason: string }>
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000))

/**
 * Cancels a subscription with the owner's one signature: a zero-value permit for the collector,
 * which the collector submits with the cancel, so the allowance ends at 0 and every older permit
 * the owner signed but nobody submitted is void (docs/design.md, Cancel leaves nothing behind).
 *
 * In this order, so a cancel that does not happen leaves everything as it was: the signature is
 * verified and the cancel simulated before anything is written (a junk or expired one is a 400
 * and changes nothing); accrued usage is collected (`collectFirst`, when the caller gives it);
 * the cancel is sent; and only after its receipt is what could not be collected written off and
 * the subscription canceled. A signature without enough time left for all that is refused up
 * front; one that runs out meanwhile fails the cancel and writes nothing off.
 *
 * A subscription the collector never opened (a counterfactual owner's authorization still held
 * off-chain, or never authorized) is recorded canceled on-chain all the same (a tombstone, without
 * deploying the owner's wallet), so the held permit and terms can never open it later.
 */
export async function cancelWithPermit(
  ctx: LifecycleContext,
  p: CancelWithPermitParameters,
): Promise<CancelWithPermitReturnType> {
  const summary = await getBillingSummary(ctx.db, p.orgId)
  if (summary.subscriptionId !== p.subscriptionId)
    throw new SignatureRejectedError(
      'wrong_subscription',
      'this is not the org’s current subscription',
    )
  if (summary.state === 'canceled')
    throw new SignatureRejectedError('canceled', 'this subscription is already canceled')
  const held = await getUnsubmittedHeld(ctx.db, {
    subscriptionId: p.subscriptionId,
    includeDropped: true,
  })
  const ownerText = summary.owner ?? held?.auth.owner
  if (!ownerText)
    throw new SignatureRejectedError('no_owner', 'this subscription has no owner wallet to sign')
  const owner = getAddress(ownerText)
  await verifyCancel(ctx, { ...p, owner })
  const onChain = await readStatus(ctx, p.subscriptionId)
  // Canceled on-chain already (the owner's own transaction, or this very cancel sent by someone
  // else): nothing to send, the ledger follows.
  if (onChain === 2) return await afterCancel(ctx, p, { txHash: null, collected: 0 })
  await simulateCancel(ctx, { ...p, owner })

  if (onChain === 0) {
    // Never opened: nothing to collect on-chain. Held under the lock, so settlement never sends
    // the held authorization while it is being tombstoned.
    const done = await withHeldLock(ctx.db, p.subscriptionId, async () => {
      const txHash = await sendCancel(ctx, { ...p, owner })
      if (held)
        await dropHeldAuthorization(ctx.db, {
          subscriptionId: p.subscriptionId,
          reason: 'canceled',
        })
      // Everything accrued is owed on a subscription that could never be collected.
      await bookCharges(ctx.db, { orgId: p.orgId })
      return await afterCancel(ctx, p, { txHash, collected: 0 }, 'held authorization never sent')
    })
    if (!done) throw new RetryableError('the subscription is being settled right now; try again')
    return done
  }

  const { collected } = p.collectFirst ? await p.collectFirst() : { collected: 0 }
  if (p.deadline <= nowSeconds() + BigInt(CANCEL_SEND_SECONDS_LEFT))
    throw new SignatureRejectedError(
      'expired',
      'the cancel signature ran out while accrued usage was collected; sign again (nothing was written off)',
    )
  const txHash = await sendCancel(ctx, { ...p, owner })
  return await afterCancel(ctx, p, { txHash, collected })
}

/**
 * The owner's zero permit, checked as the token will check it — signer (ECDSA, ERC-1271 or
 * ERC-6492), chain, token, spender, value 0 — with enough time left and a token nonce that is
 * still the owner's current one (or was used by this very permit, submitted by someone else).
 */
async function verifyCancel(
  ctx: LifecycleContext,
  p: CancelWithPermitParameters & { owner: Address },
) {
  const d = ctx.deployment
  const { valid } = await verifyOwnerSignature(ctx.operator, {
    owner: p.owner,
    typedData: await cancelPermitTypedData(ctx.operator, {
      token: d.usdc,
      owner: p.owner,
      collector: d.collector!,
      deadline: p.deadline,
      nonce: p.nonce,
    }),
    signature: p.signature,
  })
  if (!valid)
    throw new SignatureRejectedError(
      'rejected',
      'the cancel signature is not the owner’s zero permit for this token, chain and collector',
    )
  if (p.deadline <= nowSeconds() + BigInt(CANCEL_MIN_SECONDS_LEFT))
    throw new SignatureRejectedError(
      'expired',
      `the cancel signature expires too soon (it needs ${CANCEL_MIN_SECONDS_LEFT} s left); sign again`,
    )
  const [tokenNonce, allowance] = await Promise.all([
    ctx.operator.readContract({
      address: d.usdc,
      abi: usdcAbi,
      functionName: 'nonces',
      args: [p.owner],
    }),
    ctx.operator.readContract({
      address: d.usdc,
      abi: usdcAbi,
      functionName: 'allowance',
      args: [p.owner, d.collector!],
    }),
  ])
  const frontRun = p.nonce < tokenNonce && allowance === 0n
  if (p.nonce !== tokenNonce && !frontRun)
    throw new SignatureRejectedError(
      'nonce_used',
      'the cancel permit’s nonce is already used; sign a fresh one',
      { expected_nonce: tokenNonce.toString() },
    )
}

const cancelArgs = (p: CancelWithPermitParameters & { owner: Address }) =>
  [
    subscriptionKey(p.subscriptionId),
    p.owner,
    { value: 0n, deadline: p.deadline, nonce: p.nonce },
    p.signature,
  ] as const

/** Everything the collector would refuse, found before anything is written. */
async function simulateCancel(
  ctx: LifecycleContext,
  p: CancelWithPermitParameters & { owner: Address },
) {
  try {
    await ctx.operator.simulateContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'cancelWithPermit',
      args: cancelArgs(p),
      account: ctx.operator.account,
    })
  } catch (error) {
    const name = revertName(error)
    if (!name && !(error instanceof ContractFunctionRevertedError))
      throw new RetryableError('the cancel could not be checked on-chain', { cause: error })
    throw new SignatureRejectedError(
      name ?? 'rejected',
      `the collector would refuse the cancel${name ? ` (${name})` : ''}`,
    )
  }
}

/** Sends `cancelWithPermit` and waits for its receipt; throws (nothing written) unless it succeeded. */
async function sendCancel(
  ctx: LifecycleContext,
  p: CancelWithPermitParameters & { owner: Address },
): Promise<Hex> {
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  const tx = await wallet
    .sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'cancelWithPermit',
      args: cancelArgs(p),
      purpose: `cancel:${p.subscriptionId}`,
    })
    .catch((e) => {
      const name = revertName(e)
      throw new SignatureRejectedError(
        name ?? 'rejected',
        `the collector refused the cancel: ${e instanceof Error ? e.message.split('\n')[0] : e}`,
      )
    })
  const receipt = await wallet.waitFor(tx, { replaceAfterMs: ctx.replaceAfterMs })
  if (receipt?.status !== 'success')
    throw new SignatureRejectedError('reverted', 'the cancel transaction did not go through', {
      tx_hash: tx.hashes.at(-1),
    })
  return receipt.transactionHash
}

/** After the collector canceled: what could not be collected is written off, on the record. */
async function afterCancel(
  ctx: LifecycleContext,
  p: CancelWithPermitParameters,
  done: { txHash: Hex | null; collected: number },
  why?: string,
): Promise<CancelWithPermitReturnType> {
  const writtenOff: CancelWithPermitReturnType['writtenOff'] = []
  for (const charge of await listCharges(ctx.db, { orgId: p.orgId, limit: 1000 })) {
    if (
      charge.subscriptionId === p.subscriptionId &&
      (charge.status === 'booked' || charge.status === 'failed')
    ) {
      const reason = `canceled: ${why ?? charge.failureReason ?? 'not collected'}`
      await writeOffCharge(ctx.db, { chargeId: charge.id, reason })
      writtenOff.push({ chargeId: charge.id, amount: charge.amount, reason })
    }
  }
  await setSubscriptionState(ctx.db, {
    subscriptionId: p.subscriptionId,
    to: 'canceled',
    cause: 'owner',
    reason: 'canceled_by_signature',
  })
  return { ...done, writtenOff }
}

/** The collector's status for the subscription: 0 never opened, 1 active, 2 canceled. */
async function readStatus(ctx: LifecycleContext, subscriptionId: string) {
  const onChain = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(subscriptionId)],
  })
  return Number(onChain.status)
}
