import type { Address, Hex, LocalAccount } from 'viem'
import type { SignedAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import {
  permitTypedData,
  subscriptionKey,
  termsTypedData,
} from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

/** An owner signs a permit (and terms) for the collector, as the manage page has them do. */
export async function signAuthorization(
  chain: TestChain,
  owner: LocalAccount,
  p: {
    subscriptionId: string
    value: bigint
    deadline?: bigint
    nonce?: bigint
    terms?: { limit: bigint; period?: number; nonce: number }
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
  if (p.terms) {
    const message = {
      subscription: subscriptionKey(p.subscriptionId),
      limit: p.terms.limit,
      period: p.terms.period ?? 30 * 86_400,
      nonce: p.terms.nonce,
      deadline,
    }
    const terms = termsTypedData({
      chainId: chain.deployment.chainId,
      collector: chain.deployment.collector!,
      message,
    })
    auth.terms = { ...message, signature: await owner.signTypedData(terms) }
  }
  return auth
}
