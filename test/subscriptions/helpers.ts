import type { Address, Hex, LocalAccount } from 'viem'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import {
  permitTypedData,
  subscriptionKey,
  termsTypedData,
} from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'
import { readSubscription } from '../support/readSubscription.js'

/** An owner signs a permit (and terms) for the collector, as the manage page has them do. */
export async function signAuthorization(
  chain: TestChain,
  owner: LocalAccount,
  p: {
    subscriptionId: string
    value: bigint
    deadline?: bigint
    nonce?: bigint
    /**
     * Terms as well (the lifetime cap defaults to the permit's value). Unless given, a subscription
     * the collector has not opened gets the opening terms (no limit, nonce 1), as the manage page
     * asks for them — it opens nothing without; `false` signs the permit alone.
     */
    terms?: { cap?: bigint; limit: bigint; period?: number; nonce: number } | false
    chainId?: number
    spender?: Address
  },
): Promise<SignedAuthorization> {
  const deadline = p.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600)
  const permit = await permitTypedData(chain.deployer, {
    token: chain.deployment.usdc,
    owner: owner.address,
    spender: p.spender ?? chain.deployment.collector!,
    value: p.value,
    deadline,
    nonce: p.nonce,
  })
  const domain = { ...permit.domain, chainId: p.chainId ?? permit.domain.chainId }
  const signature: Hex = await owner.signTypedData({ ...permit, domain })
  const auth: SignedAuthorization = {
    owner: owner.address,
    permit: { value: p.value, deadline, nonce: permit.message.nonce, signature },
  }
  const terms = p.terms ?? (await openingTerms(chain, p.subscriptionId))
  if (terms) {
    const message = {
      subscription: subscriptionKey(p.subscriptionId),
      cap: terms.cap ?? p.value,
      limit: terms.limit,
      period: terms.period ?? 30 * 86_400,
      nonce: terms.nonce,
      deadline,
    }
    const typed = termsTypedData({
      chainId: chain.deployment.chainId,
      collector: chain.deployment.collector!,
      message,
    })
    auth.terms = { ...message, signature: await owner.signTypedData(typed) }
  }
  return auth
}

/** The opening terms (no limit, nonce 1) when the collector has not opened the subscription. */
async function openingTerms(chain: TestChain, subscriptionId: string) {
  const onChain = await readSubscription(chain, subscriptionId)
  return Number(onChain.status) === 1
    ? undefined
    : { cap: undefined, limit: 0n, period: undefined, nonce: 1 }
}
