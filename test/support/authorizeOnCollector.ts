import type { Address } from 'viem'
import { collectorAbi } from '../../src/chain/abis.js'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

export type AuthorizeOnCollectorParameters = {
  subscriptionId: string
  owner: Address
  /** The USDC permit and its signature. */
  permit: SignedAuthorization['permit']
  /** Terms and the signature sent with them: `authorizeWithTerms`; without, `authorize` (no cap limit). */
  terms?: NonNullable<SignedAuthorization['terms']>
}

/**
 * Simulates, as the operator, an authorization sent straight to the collector, past Tollgate's
 * own checks: to see the collector refuse what Tollgate refuses.
 *
 * @example
 * await expect(authorizeOnCollector(chain, { subscriptionId, owner, permit })).rejects.toThrow(/TermsRequired/)
 */
export function authorizeOnCollector(
  chain: Pick<TestChain, 'operator' | 'deployment'>,
  p: AuthorizeOnCollectorParameters,
) {
  const permit = { value: p.permit.value, deadline: p.permit.deadline, nonce: p.permit.nonce }
  const key = subscriptionKey(p.subscriptionId)
  if (p.terms) {
    const { signature, ...terms } = p.terms
    return chain.operator.simulateContract({
      address: chain.deployment.collector!,
      abi: collectorAbi,
      functionName: 'authorizeWithTerms',
      args: [key, p.owner, permit, p.permit.signature, terms, signature],
    })
  }
  return chain.operator.simulateContract({
    address: chain.deployment.collector!,
    abi: collectorAbi,
    functionName: 'authorize',
    args: [key, p.owner, permit, p.permit.signature, 2n ** 64n - 1n],
  })
}
