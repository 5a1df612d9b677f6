import type { Address } from 'viem'
import { verifyOwnerSignature } from '../aa/verifyOwnerSignature.js'
import type { ChainWriter, SignedAuthorization } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { subscriptionKey, termsTypedData } from './typedData.js'

export type VerifyTermsParameters = {
  subscriptionId: string
  owner: Address
  terms: NonNullable<SignedAuthorization['terms']>
  /** The collector's `getSubscription` for this id, read just now. */
  onChain: { termsNonce: number | bigint; limit: bigint; cap: bigint; period: number | bigint }
}

/**
 * Checks owner-signed terms exactly as the collector will — deadline, a nonce newer than the one
 * in force (or the very terms in force, a no-op), the owner's signature for this subscription
 * and chain — before anything is sent. Throws `SignatureRejectedError` with the reason.
 */
export async function verifyTerms(w: ChainWriter, p: VerifyTermsParameters) {
  const { terms, onChain } = p
  if (terms.deadline <= BigInt(Math.floor(Date.now() / 1000)))
    throw new SignatureRejectedError('expired', 'the terms signature has expired')
  // The very terms already in force (someone submitted them first) are a no-op on-chain, not stale.
  const inForce =
    terms.nonce === Number(onChain.termsNonce) &&
    terms.limit === onChain.limit &&
    terms.cap === onChain.cap &&
    terms.period === Number(onChain.period)
  if (terms.nonce <= Number(onChain.termsNonce) && !inForce) {
    throw new SignatureRejectedError('stale_terms', 'newer terms were already signed; sign again', {
      current_nonce: Number(onChain.termsNonce),
    })
  }
  const typedData = termsTypedData({
    chainId: w.deployment.chainId,
    collector: w.deployment.collector!,
    message: {
      subscription: subscriptionKey(p.subscriptionId),
      cap: terms.cap,
      limit: terms.limit,
      period: terms.period,
      nonce: terms.nonce,
      deadline: terms.deadline,
    },
  })
  const { valid } = await verifyOwnerSignature(w.operator, {
    owner: p.owner,
    typedData,
    signature: terms.signature,
  })
  if (!valid)
    throw new SignatureRejectedError(
      'bad_signature',
      'the terms signature is not the owner’s for this subscription and chain',
    )
}
