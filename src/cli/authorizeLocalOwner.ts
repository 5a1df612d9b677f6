import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { AppContext } from '../api/context.js'
import { createSigner } from '../chain/clients.js'
import { mintUsdc } from '../chain/deployContracts.js'
import { anvilKeys } from '../config/index.js'
import { submitAuthorization } from '../subscriptions/submitAuthorization.js'
import { permitTypedData, subscriptionKey, termsTypedData } from '../subscriptions/typedData.js'

export type AuthorizeLocalOwnerParameters = {
  orgId: string
  subscriptionId: string
  /** The owner wallet's key: it signs the permit and the terms (a test key, local chain only). */
  ownerKey: Hex
  /** The lifetime cap, in micro-credits; the owner is minted twice as much test USDC. */
  cap: bigint
  rpcUrl: string
}

/**
 * On a local chain, funds an owner wallet with test USDC (anvil's key 0 mints) and authorizes
 * the org's subscription on-chain from that owner's own signatures — permit and opening terms
 * (the cap, no monthly limit, the configured window) — as a first authorization takes.
 */
export async function authorizeLocalOwner(
  ctx: Pick<AppContext, 'db' | 'config'> & { chain: NonNullable<AppContext['chain']> },
  p: AuthorizeLocalOwnerParameters,
) {
  const chain = ctx.chain
  const owner = privateKeyToAccount(p.ownerKey)
  const deployer = await createSigner(p.rpcUrl, anvilKeys[0])
  await mintUsdc(deployer, chain.deployment, { to: owner.address, amount: p.cap * 2n })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const permit = await permitTypedData(chain.operator!, {
    token: chain.usdc,
    owner: owner.address,
    spender: chain.collector!,
    value: p.cap,
    deadline,
  })
  const terms = {
    cap: p.cap,
    limit: 0n,
    period: ctx.config.billing.windowSeconds,
    nonce: 1,
    deadline,
  }
  const termsSignature = await owner.signTypedData(
    termsTypedData({
      chainId: chain.chainId,
      collector: chain.collector!,
      message: { subscription: subscriptionKey(p.subscriptionId), ...terms },
    }),
  )
  return await submitAuthorization(
    { db: ctx.db, operator: chain.operator!, deployment: chain.deployment },
    {
      orgId: p.orgId,
      subscriptionId: p.subscriptionId,
      auth: {
        owner: owner.address,
        permit: {
          value: p.cap,
          deadline,
          nonce: permit.message.nonce,
          signature: await owner.signTypedData(permit),
        },
        terms: { ...terms, signature: termsSignature },
      },
    },
  )
}
