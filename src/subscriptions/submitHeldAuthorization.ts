import type { Hex } from 'viem'
import { ownerDeploymentDue } from '../aa/ownerDeploymentDue.js'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { type BlockRange, getLogsInRanges } from '../chain/getLogsInRanges.js'
import type { Db } from '../db/client.js'
import { carryUnchargedIntoWindow } from '../ledger/index.js'
import type { LifecycleContext } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import {
  dropHeldAuthorization,
  getUnsubmittedHeld,
  type HeldAuthorization,
  markHeldSubmitted,
} from './heldAuthorizations.js'
import { recordAuthorization } from './recordAuthorization.js'
import { sendAuthorization } from './sendAuthorization.js'
import { setSubscriptionState } from './state/authorizeSubscription.js'
import { verifyAuthorization } from './submitAuthorization.js'
import { subscriptionKey } from './typedData.js'

export type SubmitHeldAuthorizationParameters = {
  orgId: string
  subscriptionId: string
  /** What is about to be booked (accrued usage), in micro-credits. */
  amountDue: bigint
}

export type SubmitHeldAuthorizationReturnType =
  /** On-chain now (the wallet deployed through the validator): book as usual. */
  | { outcome: 'submitted'; txHash: Hex }
  /** No held authorization waits for this subscription. */
  | { outcome: 'none' }
  /** Another worker (or a cancel) holds it right now: skip this run. */
  | { outcome: 'busy' }
  /** Nothing sent: nothing due yet. */
  | { outcome: 'nothing_due' }
  /** Nothing sent; the subscription lapsed (balance_short): the wallet cannot pay what is due. */
  | { outcome: 'balance_short'; balance: bigint }
  /** Nothing sent; the subscription needs a fresh signature (permit_unusable:<reason>). */
  | { outcome: 'unusable'; reason: string }

/**
 * Runs `fn` holding the subscription's held-authorization lock (a transaction-scoped advisory
 * lock), so two workers — or a worker and a cancel — never act on one held authorization at once.
 * Returns `undefined` when someone else holds it.
 */
export async function withHeldLock<T>(
  db: Db,
  subscriptionId: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  return (await db.$client.begin(async (tx) => {
    const [row] = await tx<{ locked: boolean }[]>`
      select pg_try_advisory_xact_lock(hashtextextended(${`held_authorization:${subscriptionId}`}, 0)) as locked`
    if (!row?.locked) return undefined
    return await fn()
  })) as T | undefined
}

/**
 * Sends a counterfactual owner's held authorization when a charge is due — and only then, and
 * only when the wallet's USDC balance covers it (`ownerDeploymentDue`), so a sign-up that never
 * pays never costs the operator a deployment. Sending deploys the wallet through the collector's
 * unprivileged ERC-6492 validator; the ledger's windows then align to the collector's.
 * A wallet short of what is due lapses (`balance_short`, as a failed pull for balance does); a
 * held permit that expired or whose nonce was consumed goes `needs_reauth`
 * (`permit_unusable:<reason>`). Neither sends anything.
 */
export async function submitHeldAuthorization(
  ctx: LifecycleContext,
  p: SubmitHeldAuthorizationParameters,
): Promise<SubmitHeldAuthorizationReturnType> {
  const result = await withHeldLock(ctx.db, p.subscriptionId, async () => {
    const held = await getUnsubmittedHeld(ctx.db, { subscriptionId: p.subscriptionId })
    if (!held || held.orgId !== p.orgId) return { outcome: 'none' } as const
    // A worker that died after sending: the collector has it already, so record that instead.
    const landed = await findLandedAuthorization(ctx, held)
    if (landed) return landed
    const due = await ownerDeploymentDue(ctx.operator, {
      token: ctx.deployment.usdc,
      owner: held.auth.owner,
      amountDue: p.amountDue,
    })
    if (due.reason === 'nothing_due') return { outcome: 'nothing_due' } as const
    if (due.reason === 'balance_short') {
      await setSubscriptionState(ctx.db, {
        subscriptionId: p.subscriptionId,
        to: 'lapsed',
        cause: 'settlement',
        reason: 'balance_short',
      })
      return { outcome: 'balance_short', balance: due.balance } as const
    }
    // `due`, or `already_deployed` (the owner deployed it themselves): the signatures still hold.
    try {
      await verifyAuthorization(ctx, { subscriptionId: p.subscriptionId, auth: held.auth }).catch(
        async (error) => {
          // Anyone may submit a signed permit first (deploying the wallet through the validator
          // to do so): its nonce is then used but the allowance is the permit's, which the
          // collector takes as success. A nonce used by another permit stays unusable.
          if (
            error instanceof SignatureRejectedError &&
            error.details?.reason === 'nonce_used' &&
            (await permitApplied(ctx, held))
          )
            return
          throw error
        },
      )
      const sent = await sendAuthorization(ctx, {
        orgId: p.orgId,
        subscriptionId: p.subscriptionId,
        auth: held.auth,
        state: 'active',
        cause: 'settlement',
      })
      await markHeldSubmitted(ctx.db, { subscriptionId: p.subscriptionId, txHash: sent.txHash })
      // Usage metered while held is due in the collector's first window: its limit counts it.
      await carryUnchargedIntoWindow(ctx.db, { orgId: p.orgId, subscriptionId: p.subscriptionId })
      ctx.log?.info('held authorization sent: owner wallet deployed for its first charge', {
        subscriptionId: p.subscriptionId,
        txHash: sent.txHash,
        amountDue: p.amountDue,
      })
      return { outcome: 'submitted', txHash: sent.txHash } as const
    } catch (error) {
      if (!(error instanceof SignatureRejectedError)) throw error
      const reason = `permit_unusable:${String(error.details?.reason ?? 'rejected')}`
      await dropHeldAuthorization(ctx.db, { subscriptionId: p.subscriptionId, reason })
      await setSubscriptionState(ctx.db, {
        subscriptionId: p.subscriptionId,
        to: 'needs_reauth',
        cause: 'chain',
        reason,
      })
      return { outcome: 'unusable', reason } as const
    }
  })
  return result ?? { outcome: 'busy' }
}

/** Whether the held permit itself was applied by someone else: its nonce used, the allowance exactly its value. */
async function permitApplied(ctx: LifecycleContext, held: HeldAuthorization) {
  const { owner, permit } = held.auth
  const [allowance, nonce] = await Promise.all([
    ctx.operator.readContract({
      address: ctx.deployment.usdc,
      abi: usdcAbi,
      functionName: 'allowance',
      args: [owner, ctx.deployment.collector!],
    }),
    ctx.operator.readContract({
      address: ctx.deployment.usdc,
      abi: usdcAbi,
      functionName: 'nonces',
      args: [owner],
    }),
  ])
  return permit.nonce < nonce && allowance === permit.value
}

/** The held authorization's `Authorized` event, if an earlier run sent it and died before recording it. */
async function findLandedAuthorization(
  ctx: LifecycleContext,
  held: HeldAuthorization,
): Promise<SubmitHeldAuthorizationReturnType | undefined> {
  const key = subscriptionKey(held.subscriptionId)
  const onChain = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [key],
  })
  if (Number(onChain.status) === 0) return undefined
  // The latest one, read newest first in bounded ranges (RPCs cap log ranges).
  const logs = await getLogsInRanges(ctx.operator, {
    fromBlock: BigInt(ctx.deployment.blocks.collector ?? 0),
    maxRange: ctx.maxLogRange,
    direction: 'backward',
    stop: (found) => found.length > 0,
    read: (range: BlockRange) =>
      ctx.operator.getContractEvents({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        eventName: 'Authorized',
        args: { subscription: key },
        ...range,
      }),
  })
  const last = logs.at(-1)
  if (!last) return undefined
  await recordAuthorization(ctx.db, {
    orgId: held.orgId,
    subscriptionId: held.subscriptionId,
    auth: held.auth,
    allowance: last.args.allowance!,
    windowStart: Number(last.args.start),
    windowSeconds: Number(last.args.period),
    cause: 'settlement',
  })
  await markHeldSubmitted(ctx.db, {
    subscriptionId: held.subscriptionId,
    txHash: last.transactionHash,
  })
  await carryUnchargedIntoWindow(ctx.db, { orgId: held.orgId, subscriptionId: held.subscriptionId })
  return { outcome: 'submitted', txHash: last.transactionHash }
}
