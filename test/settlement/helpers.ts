import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import type { Db } from '../../src/db/client.js'
import { authorizeOwner } from '../../src/settlement/authorizeOwner.js'
import type { SettlementContext } from '../../src/settlement/context.js'
import type { TestChain } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'

/** Settlement against the test chain, with DESIGN.md's defaults unless overridden. */
export const settlementContext = (
  db: Db,
  chain: TestChain,
  over: Partial<SettlementContext> = {},
): SettlementContext => ({
  db,
  operator: chain.operator,
  deployment: chain.deployment,
  thresholdMicros: 1_000_000n,
  maxAccrualAgeSeconds: 86_400,
  confirmations: 1,
  ...over,
})

/** An org whose owner (a fresh EOA holding `balance` USDC) authorized `cap` on-chain. */
export async function authorizedOrg(
  db: Db,
  chain: TestChain,
  p: { cap: bigint; balance: bigint; credit?: bigint; limit?: bigint },
) {
  const ownerKey = generatePrivateKey()
  const owner = privateKeyToAccount(ownerKey)
  if (p.balance > 0n)
    await mintUsdc(chain.deployer, chain.deployment, { to: owner.address, amount: p.balance })
  const { orgId, subscriptionId } = await newOrg(db, p.credit ?? 0n)
  const auth = await signAuthorization(chain, owner, {
    subscriptionId,
    value: p.cap,
    terms: p.limit === undefined ? undefined : { limit: p.limit, nonce: 1 },
  })
  await authorizeOwner(
    { db, operator: chain.operator, deployment: chain.deployment },
    { orgId, subscriptionId, owner: auth.owner, permit: auth.permit, terms: auth.terms },
  )
  return { orgId, subscriptionId, owner, ownerKey }
}
