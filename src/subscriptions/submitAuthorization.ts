import { type Address, type Hex, isAddressEqual, isErc6492Signature } from 'viem'
import { verifyOwnerSignature } from '../aa/verifyOwnerSignature.js'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { carryUnchargedIntoWindow, getBillingSummary } from '../ledger/index.js'
import type { ChainWriter, SignedAuthorization } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { dropHeldAuthorization, holdAuthorization, isCounterfactual } from './heldAuthorizations.js'
import { recordAuthorization } from './recordAuthorization.js'
import { sendAuthorization } from './sendAuthorization.js'
import { setSubscriptionState } from './state/authorizeSubscription.js'
import { permitTypedData, subscriptionKey } from './typedData.js'
import { verifyTerms } from './verifyTerms.js'

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000))

/**
 * Checks an owner's signed authorization exactly as the chain will — signer (`verifyOwnerSignature`:
 * USDC's ECDSA rules for a code-less owner, ERC-1271 or ERC-6492 otherwise), chain, token, spender, deadline, the
 * token nonce still current, terms nonce newer — before anything is sent. Throws
 * `SignatureRejectedError` with the reason; nothing changes.
 */
export async function verifyAuthorization(
  w: ChainWriter,
  p: { subscriptionId: string; auth: SignedAuthorization },
) {
  const { auth } = p
  const d = w.deployment
  const permit = await permitTypedData(w.operator, {
    token: d.usdc,
    owner: auth.owner,
    spender: d.collector!,
    value: auth.permit.value,
    deadline: auth.permit.deadline,
    nonce: auth.permit.nonce,
  })
  // USDC's own ECDSA rules for a code-less owner (viem alone would pass a high-s or 64-byte
  // signature the token then refuses on-chain, at the operator's cost); ERC-1271 / ERC-6492
  // (deployment simulated, nothing sent) for a smart account.
  const { valid: permitOk } = await verifyOwnerSignature(w.operator, {
    owner: auth.owner,
    typedData: permit,
    signature: auth.permit.signature,
  })
  if (!permitOk)
    throw new SignatureRejectedError(
      'bad_signature',
      'the permit signature is not the owner’s for this token, chain and collector',
    )
  // Only then deadline and nonce: a permit that is the owner's but can no longer be used is
  // what may move a pending subscription to needs_reauth; a stranger's bytes never do.
  if (auth.permit.deadline <= nowSeconds())
    throw new SignatureRejectedError('expired', 'the permit has expired; sign a fresh one')
  const tokenNonce = await w.operator.readContract({
    address: d.usdc,
    abi: usdcAbi,
    functionName: 'nonces',
    args: [auth.owner],
  })
  if (auth.permit.nonce !== tokenNonce) {
    throw new SignatureRejectedError(
      'nonce_used',
      'the permit nonce is already used (replayed, or another permit came first); sign a fresh one',
      {
        expected_nonce: tokenNonce.toString(),
      },
    )
  }
  const sub = await w.operator.readContract({
    address: d.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(p.subscriptionId)],
  })
  // Only a live subscription takes a permit alone: opening one (or one still held off-chain)
  // needs the owner's terms for this id, carrying the lifetime cap.
  if (!auth.terms && Number(sub.status) !== 1)
    throw new SignatureRejectedError(
      'terms_required',
      'a first authorization needs the owner’s signed terms (lifetime cap and monthly limit) as well as the permit',
    )
  if (auth.terms)
    await verifyTerms(w, {
      subscriptionId: p.subscriptionId,
      owner: auth.owner,
      terms: auth.terms,
      onChain: sub,
    })
}

export type SubmitAuthorizationReturnType =
  | { txHash: Hex; held: false; allowance: bigint }
  /** Held off-chain (a counterfactual owner): sent, deploying the wallet, with the first charge due. */
  | { txHash: null; held: true; allowance: bigint }

/**
 * Authorizes (or re-authorizes, same id) a subscription from the owner's signatures: verifies,
 * has the operator submit the permit (and terms) to the collector, waits for inclusion, and
 * moves the subscription to `active` with the allowance and the collector's windows.
 *
 * An owner whose wallet has no code yet, signing with ERC-6492, is not sent at all: submitting
 * would deploy the wallet at the operator's cost, for a sign-up that may never pay. The verified
 * authorization is held (`held_authorizations`) and the subscription moves to `active` with the
 * permit's value as allowance; settlement sends it when a charge is due and the wallet's balance
 * covers it (src/subscriptions/submitHeldAuthorization.ts).
 */
export async function submitAuthorization(
  w: ChainWriter,
  p: {
    orgId: string
    subscriptionId: string
    auth: SignedAuthorization
    /** The lifetime cap the owner chose for a top-up (their permit's value was computed from it). */
    cap?: bigint | undefined
  },
): Promise<SubmitAuthorizationReturnType> {
  const { auth } = p
  const summary = await getBillingSummary(w.db, p.orgId)
  if (summary.subscriptionId !== p.subscriptionId) {
    throw new SignatureRejectedError(
      'wrong_subscription',
      'this is not the org’s current subscription',
    )
  }
  if (summary.state === 'canceled')
    throw new SignatureRejectedError('canceled', 'this subscription is canceled; start a new one')
  if (summary.owner && !isAddressEqual(summary.owner as Address, auth.owner)) {
    throw new SignatureRejectedError(
      'wrong_owner',
      'only the subscription’s owner wallet can re-authorize it',
    )
  }
  await verifyAuthorization(w, { subscriptionId: p.subscriptionId, auth }).catch(async (error) => {
    // A first authorization whose permit can no longer be used — its token nonce consumed by
    // another permit, or expired before use — leaves the subscription waiting for a fresh one.
    const reason =
      error instanceof SignatureRejectedError ? (error.details?.reason as string) : undefined
    if (summary.state === 'pending' && (reason === 'nonce_used' || reason === 'expired')) {
      await setSubscriptionState(w.db, {
        subscriptionId: p.subscriptionId,
        to: 'needs_reauth',
        cause: 'chain',
        reason: `permit_unusable:${reason}`,
      })
    }
    throw error
  })
  const code = await w.operator.getCode({ address: auth.owner })
  if (isCounterfactual(code) && isErc6492Signature(auth.permit.signature)) {
    await holdAuthorization(w.db, p)
    const windowSeconds =
      auth.terms?.period ??
      (await w.operator.readContract({
        address: w.deployment.collector!,
        abi: collectorAbi,
        functionName: 'DEFAULT_PERIOD',
      }))
    await recordAuthorization(w.db, {
      ...p,
      allowance: auth.permit.value,
      // Provisional windows from the first hold on (a re-sign while held keeps them, so the
      // monthly meter keeps what it counted); the collector's start replaces them when it lands.
      windowStart: undefined,
      windowSeconds: Number(windowSeconds),
      cause: 'owner',
    })
    return { txHash: null, held: true, allowance: auth.permit.value }
  }
  const sent = await sendAuthorization(w, {
    ...p,
    state: summary.state,
    cause: 'owner',
    // What the owner's new cap counted as drawn when the permit's value was worked out: a pull
    // landing before the permit cannot take them past it.
    maxCap: p.cap ?? summary.drawn + summary.booked + auth.permit.value,
  })
  // Sent directly (the wallet has code by now, or signs plainly): an older held one never goes out,
  // and what was metered under it is due in the collector's first window.
  if (await dropHeldAuthorization(w.db, { subscriptionId: p.subscriptionId, reason: 'superseded' }))
    await carryUnchargedIntoWindow(w.db, { orgId: p.orgId, subscriptionId: p.subscriptionId })
  return { txHash: sent.txHash, held: false, allowance: sent.allowance }
}
