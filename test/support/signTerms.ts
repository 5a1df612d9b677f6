import type { TypedDataDefinition } from 'viem'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { subscriptionKey, termsTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'
import { readSubscription } from './readSubscription.js'
import type { TypedDataSigner } from './signOwnerCancel.js'

export type SignTermsParameters = {
  subscriptionId: string
  /** The permit's value: the lifetime cap unless the terms give one. */
  value: bigint
  /** The permit's deadline, which the terms share. */
  deadline: bigint
  /**
   * The terms to sign (a 30-day window unless given). Unless given, a subscription the collector
   * has not opened gets the opening terms (no limit, nonce 1); `false` signs none.
   */
  terms?: Terms | false
}

type Terms = { cap?: bigint; limit: bigint; period?: number; nonce: number }

/**
 * The terms half of an owner's signed authorization, signed by `signer` as the manage page has
 * a wallet sign it; undefined when there are none to sign.
 *
 * @example
 * const terms = await signTerms(chain, owner, { subscriptionId, value, deadline })
 * if (terms) auth.terms = terms
 */
export async function signTerms(
  chain: Pick<TestChain, 'deployer' | 'deployment'>,
  signer: TypedDataSigner,
  p: SignTermsParameters,
): Promise<SignedAuthorization['terms']> {
  const terms = p.terms ?? (await openingTerms(chain, p.subscriptionId))
  if (!terms) return undefined
  const message = {
    subscription: subscriptionKey(p.subscriptionId),
    cap: terms.cap ?? p.value,
    limit: terms.limit,
    period: terms.period ?? 30 * 86_400,
    nonce: terms.nonce,
    deadline: p.deadline,
  }
  const typed = termsTypedData({
    chainId: chain.deployment.chainId,
    collector: chain.deployment.collector!,
    message,
  })
  return { ...message, signature: await signer.signTypedData(typed as TypedDataDefinition) }
}

/** The opening terms (no limit, nonce 1) when the collector has not opened the subscription. */
async function openingTerms(
  chain: Pick<TestChain, 'deployer' | 'deployment'>,
  subscriptionId: string,
): Promise<Terms | undefined> {
  const onChain = await readSubscription(chain, subscriptionId)
  return Number(onChain.status) === 1 ? undefined : { limit: 0n, nonce: 1 }
}
