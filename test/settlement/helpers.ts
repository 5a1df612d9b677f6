import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { collectorAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import type { Db } from '../../src/db/client.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import type { SettlementContext } from '../../src/settlement/context.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { subscriptionKey, termsTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'
import { makeMeter, newOrg } from '../ledger/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { authorizeOwner } from '../support/authorizeOwner.js'
import { readSubscription } from '../support/readSubscription.js'
import { signOwnerCancel } from '../support/signOwnerCancel.js'

/** Settlement against the test chain, with the defaults of docs/operations.md unless overridden. */
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
    terms: { limit: p.limit ?? 0n, nonce: 1 },
  })
  await authorizeOwner(
    { db, operator: chain.operator, deployment: chain.deployment },
    { orgId, subscriptionId, owner: auth.owner, permit: auth.permit, terms: auth.terms },
  )
  return { orgId, subscriptionId, owner, ownerKey }
}

/**
 * An authorized org that metered `comments` save_comment actions ($0.005 each), then canceled
 * with the owner's signature: the cancel collects what accrued first, so its one charge is
 * collected and nothing is left to net a refund against (it is owed on-chain).
 */
export async function canceledOrgWithCharge(db: Db, chain: TestChain, comments: number) {
  const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
  const meter = makeMeter(db)
  for (let i = 0; i < comments; i++) await meter.meter({ orgId: org.orgId, action: 'save_comment' })
  await meter.close()
  const canceled = await cancelSubscription(settlementContext(db, chain), {
    orgId: org.orgId,
    subscriptionId: org.subscriptionId,
    ...(await signOwnerCancel(chain, org.owner, { subscriptionId: org.subscriptionId })),
  })
  return { ...org, canceled }
}

/**
 * The owner signs new terms (limit, period; nonce 2 unless given, valid an hour) and sends `setTerms` from
 * their own wallet, as they may without Tollgate. Returns the receipt.
 */
export async function setTermsOnChain(
  chain: TestChain,
  org: Awaited<ReturnType<typeof authorizedOrg>>,
  terms: { limit: bigint; period: number; nonce?: number; cap?: bigint },
) {
  const onChain = await readSubscription(chain, org.subscriptionId)
  const message = {
    subscription: subscriptionKey(org.subscriptionId),
    // The lifetime cap in force unless the owner changes it too.
    cap: terms.cap ?? onChain.cap,
    limit: terms.limit,
    period: terms.period,
    nonce: terms.nonce ?? 2,
    // An hour by the chain's clock, which tests move ahead of the wall clock.
    deadline: (await chain.operator.getBlock()).timestamp + 3_600n,
  }
  const signature = await org.owner.signTypedData(
    termsTypedData({
      chainId: chain.deployment.chainId,
      collector: chain.deployment.collector!,
      message,
    }),
  )
  await chain.testClient.setBalance({ address: org.owner.address, value: 10n ** 18n })
  const owner = await chain.signerFor(org.ownerKey)
  const hash = await owner.writeContract({
    address: chain.deployment.collector!,
    abi: collectorAbi,
    functionName: 'setTerms',
    args: [message.subscription, message, signature],
  })
  return await owner.waitForTransactionReceipt({ hash })
}

/**
 * The setting of the per-window limit tests: an org authorized for $1, with $1 in the owner's
 * wallet and a $0.50 limit on-chain; settlement that books whatever accrued; and a meter.
 */
export async function limitedOrg(db: Db, chain: TestChain) {
  return {
    ctx: settlementContext(db, chain, { thresholdMicros: 1n }),
    meter: makeMeter(db),
    org: await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n, limit: 500_000n }),
  }
}

/**
 * A charge larger than the owner's limit: `limitedOrg` meters $0.014 (two claims), the owner
 * cuts the limit to $0.010 on-chain, and a settlement pass books the charge and sends it — the
 * collector refuses it for the limit. Returns the pass's report with the rest.
 */
export async function chargeOverCutLimit(db: Db, chain: TestChain) {
  const setting = await limitedOrg(db, chain)
  const { ctx, meter, org } = setting
  await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
  await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
  await setTermsOnChain(chain, org, { limit: 10_000n, period: 30 * 86_400 })
  return { ...setting, refused: await settleOnce(ctx, { orgIds: [org.orgId] }) }
}
