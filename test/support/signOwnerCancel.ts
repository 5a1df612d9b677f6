import type { Address, Hex, TypedDataDefinition } from 'viem'
import { cancelPermitTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

/** Anything that signs EIP-712 for an owner address: a smart account, or a plain key. */
export type TypedDataSigner = {
  address: Address
  signTypedData: (typedData: TypedDataDefinition) => Promise<Hex>
}

/**
 * The owner's signed cancel: a zero-value USDC permit for the collector, signed by `signer` for
 * `owner` (the signer's own address unless named), valid ten minutes unless `deadline` says.
 * Spread it into `cancelSubscription`'s parameters.
 *
 * @example
 * await cancelSubscription(ctx, { orgId, subscriptionId, ...(await signOwnerCancel(chain, owner, { subscriptionId })) })
 */
export async function signOwnerCancel(
  chain: TestChain,
  signer: TypedDataSigner,
  p: { subscriptionId: string; owner?: Address; deadline?: bigint },
) {
  const deadline = p.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 600)
  const typed = await cancelPermitTypedData(chain.deployer, {
    token: chain.deployment.usdc,
    owner: p.owner ?? signer.address,
    collector: chain.deployment.collector!,
    deadline,
  })
  return {
    deadline,
    nonce: typed.message.nonce,
    signature: await signer.signTypedData(typed as TypedDataDefinition),
  }
}
