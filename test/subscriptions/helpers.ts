import type { Address, Hex, LocalAccount } from 'viem'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { permitTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'
import { signTerms } from '../support/signTerms.js'

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
  const terms = await signTerms(chain, owner, {
    subscriptionId: p.subscriptionId,
    value: p.value,
    deadline,
    terms: p.terms,
  })
  if (terms) auth.terms = terms
  return auth
}
