import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { parsePrepaidPackages } from '../../src/core/prepaidPackages.js'
import type { Db } from '../../src/db/client.js'
import {
  creditPrepaid,
  getBillingSummary,
  listTopUps,
  markChargeCollected,
} from '../../src/ledger/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { settlementContext } from '../settlement/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { authorizeOwner } from '../support/authorizeOwner.js'
import { signInWithSiwe, signUp, startApi } from './server.js'

const token = 'operator-token-for-tests-0123456789abcdef'

/** The token's Transfer events out of `from`: what the owner really paid. */
const transfersFrom = async (chain: TestChain, from: `0x${string}`) =>
  (
    await chain.operator.getContractEvents({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      eventName: 'Transfer',
      args: { from },
      fromBlock: 0n,
    })
  ).map((l) => l.args.value)

/** A signed-up org whose owner authorized $200 and chose prepaid: its API key and owner session. */
async function prepaidSignup(api: Awaited<ReturnType<typeof startApi>>, db: Db, chain: TestChain) {
  const wallet = privateKeyToAccount(generatePrivateKey())
  await mintUsdc(chain.deployer, chain.deployment, { to: wallet.address, amount: 100_000_000n })
  const org = await signUp(api, wallet.address)
  const orgId: string = org.org.id
  const subscriptionId: string = org.subscription_id
  const auth = await signAuthorization(chain, wallet, {
    subscriptionId,
    value: 200_000_000n,
    terms: { limit: 0n, nonce: 1 },
  })
  await authorizeOwner(
    { db, operator: chain.operator, deployment: chain.deployment },
    { orgId, subscriptionId, owner: auth.owner, permit: auth.permit, terms: auth.terms },
  )
  const owner = await signInWithSiwe(api, wallet)
  const mode = await api.call('POST', '/v1/billing/mode', {
    key: owner,
    body: { mode: 'prepaid' },
    headers: { 'idempotency-key': 'mode-1' },
  })
  expect(mode.status, mode.text).toBe(200)
  return { wallet, org, orgId, subscriptionId, owner }
}

/** What reconcile finds for the org once the chain is indexed (empty: its books prove out). */
async function reconciled(db: Db, chain: TestChain, orgId: string) {
  await indexChain(settlementContext(db, chain))
  return await reconcileWithChain(
    { db, client: chain.testClient, deployment: chain.deployment },
    { orgId },
  )
}

/** The org's credit lines to its prepaid balance, oldest first. */
const creditLines = (db: Db, orgId: string) =>
  db.$client<{ kind: string; amount: bigint; prepaid_after: bigint }[]>`
    select kind, amount, prepaid_after from ledger_entries
    where org_id = ${orgId} and kind like 'prepaid\\_%' order by seq`

describe('prepaid packages with bonus credit', () => {
  test('a package top-up pulls exactly its price, credits price + bonus as two ledger lines, once; another amount gets no bonus; neither is refundable', async ({
    db,
    chain,
  }) => {
    const api = await startApi(db, {
      PREPAID_PACKAGES: '50:5,100:15',
      OPERATOR_API_TOKEN: token,
      SIGNUP_CREDIT_MICROS: '0',
    })
    try {
      const { wallet, org, orgId, subscriptionId, owner } = await prepaidSignup(api, db, chain)
      const offered = [
        {
          price: { micros: '50000000', usd: '$50.00' },
          bonus: { micros: '5000000', usd: '$5.00' },
        },
        {
          price: { micros: '100000000', usd: '$100.00' },
          bonus: { micros: '15000000', usd: '$15.00' },
        },
      ]
      const before = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(before.json)
      expect(before.json.top_up.packages).toEqual(offered)
      // The manage page says them beside "Buy now".
      const page = await api.call('GET', `/s/${subscriptionId}`)
      expect(page.text).toContain('Buy $50.00, get $5.00 free · Buy $100.00, get $15.00 free')

      // Buy the $50 package: the answer says the bonus and the packages on offer.
      const bought = await api.call('POST', '/v1/billing/top-ups', {
        key: owner,
        body: { amount_micros: '50000000' },
        headers: { 'idempotency-key': 'buy-50' },
      })
      expect(bought.status, bought.text).toBe(202)
      responses['POST /v1/billing/top-ups'].parse(bought.json)
      expect(bought.json.top_up).toMatchObject({
        amount: { micros: '50000000' },
        bonus: { micros: '5000000', usd: '$5.00' },
      })
      expect(bought.json.packages).toEqual(offered)

      const ctx = settlementContext(db, chain)
      await settleOnce(ctx, { orgIds: [orgId] })
      const [topUp] = await listTopUps(db, { orgId })
      expect(topUp).toMatchObject({ status: 'collected', amount: 50_000_000n, bonus: 5_000_000n })
      // On-chain: the owner paid the price, not price + bonus.
      expect(await transfersFrom(chain, wallet.address)).toEqual([50_000_000n])
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(55_000_000n)
      const credits = () => creditLines(db, orgId)
      expect(await credits()).toEqual([
        { kind: 'prepaid_topup', amount: 50_000_000n, prepaid_after: 50_000_000n },
        { kind: 'prepaid_bonus', amount: 5_000_000n, prepaid_after: 55_000_000n },
      ])

      // The collection seen again (another worker, a rerun after a crash): nothing more.
      await markChargeCollected(db, { chargeId: topUp!.id, txHash: topUp!.txHash! })
      await settleOnce(ctx, { orgIds: [orgId] })
      const replay = await db.$client.begin((tx) =>
        creditPrepaid(tx, {
          orgId,
          amount: 5_000_000n,
          source: 'bonus',
          reference: `charge:${topUp!.id}`,
        }),
      )
      expect(replay).toMatchObject({ replayed: true })
      expect(await credits()).toHaveLength(2)
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(55_000_000n)

      // Never redeemable: the top-up (and so its bonus) is refused by the refund route.
      const refund = await api.call('POST', '/v1/operator/refunds', {
        key: token,
        body: { org_id: orgId, charge_id: topUp!.id, reason: 'give the package back' },
        headers: { 'idempotency-key': 'refund-1' },
      })
      expect(refund.status, refund.text).toBe(409)
      expect(refund.json.error.code).toBe('REFUND_NOT_CHARGED')
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(55_000_000n)
      // Spent like any prepaid credit: usage draws the one balance ($0.005 a comment).
      const used = await api.call('POST', '/v1/usage', {
        key: org.api_key,
        body: { action: 'save_comment' },
      })
      expect(used.status, used.text).toBe(201)
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(54_995_000n)

      // $20 is no package: no bonus.
      const plain = await api.call('POST', '/v1/billing/top-ups', {
        key: owner,
        body: { amount_micros: '20000000' },
        headers: { 'idempotency-key': 'buy-20' },
      })
      expect(plain.status, plain.text).toBe(202)
      expect(plain.json.top_up.bonus).toEqual({ micros: '0', usd: '$0.00' })
      await settleOnce(ctx, { orgIds: [orgId] })
      expect(await transfersFrom(chain, wallet.address)).toEqual([50_000_000n, 20_000_000n])
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(74_995_000n)
      expect((await credits()).map((c) => [c.kind, c.amount])).toEqual([
        ['prepaid_topup', 50_000_000n],
        ['prepaid_bonus', 5_000_000n],
        ['prepaid_topup', 20_000_000n],
      ])
      // The books still prove out against the chain: the bonus is a credit nobody paid for.
      expect(await reconciled(db, chain, orgId)).toEqual([])
    } finally {
      await api.stop()
    }
  })

  test('an auto top-up at a package price earns its bonus by the same rule (two lines, once, shown); at another amount none', async ({
    db,
    chain,
  }) => {
    const packages = '50:5,100:15'
    const api = await startApi(db, { PREPAID_PACKAGES: packages, SIGNUP_CREDIT_MICROS: '0' })
    try {
      const { wallet, org, orgId, subscriptionId, owner } = await prepaidSignup(api, db, chain)
      // Below $1, pull $50: the $50 package's price.
      const auto = await api.call('POST', '/v1/billing/auto-top-up', {
        key: owner,
        body: { threshold_micros: '1000000', amount_micros: '50000000' },
        headers: { 'idempotency-key': 'auto-50' },
      })
      expect(auto.status, auto.text).toBe(200)
      // The worker's context carries the packages as the config does (settlementContextFor).
      const ctx = settlementContext(db, chain, { prepaidPackages: parsePrepaidPackages(packages) })
      expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ topUps: 1, collected: 1 })
      // Seen again (another worker, a rerun): nothing more is booked, pulled or credited.
      await settleOnce(ctx, { orgIds: [orgId] })
      expect(await transfersFrom(chain, wallet.address)).toEqual([50_000_000n])
      expect(
        (await creditLines(db, orgId)).map((c) => [c.kind, c.amount, c.prepaid_after]),
      ).toEqual([
        ['prepaid_topup', 50_000_000n, 50_000_000n],
        ['prepaid_bonus', 5_000_000n, 55_000_000n],
      ])
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(55_000_000n)

      // Shown where top-ups are: the API's top_up view, the manage page, the statement.
      const billing = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(billing.json)
      expect(billing.json.top_up.last).toMatchObject({
        auto: true,
        status: 'collected',
        amount: { micros: '50000000', usd: '$50.00' },
        bonus: { micros: '5000000', usd: '$5.00' },
      })
      const link = await api.call('POST', '/v1/billing/manage-link', { key: owner, body: {} })
      const t = new URL(link.json.url).searchParams.get('t')!
      const state = await api.call('GET', `/s/${subscriptionId}/state`, {
        headers: { 'x-manage-token': t },
      })
      expect(state.json.charges).toEqual([
        expect.objectContaining({
          kind: 'topup',
          amount_micros: '50000000',
          bonus_micros: '5000000',
        }),
      ])
      const month = new Date().toISOString().slice(0, 7)
      const statement = await api.call('GET', `/v1/billing/statements/${month}`, {
        key: org.api_key,
      })
      responses['GET /v1/billing/statements/{month}'].parse(statement.json)
      expect(statement.json.charges).toMatchObject([
        {
          kind: 'topup',
          prepaid_credited: { micros: '50000000' },
          bonus_credited: { micros: '5000000', usd: '$5.00' },
        },
      ])
      expect(statement.json.totals.prepaid_bonus).toEqual({ micros: '5000000', usd: '$5.00' })
      const csv = await api.call('GET', `/v1/billing/statements/${month}.csv`, { key: org.api_key })
      expect(csv.text).toContain('prepaid purchase, $50.00 credited + $5.00 bonus')

      // $20 is no package: the next dip's auto top-up earns nothing.
      const plain = await api.call('POST', '/v1/billing/auto-top-up', {
        key: owner,
        body: { threshold_micros: '60000000', amount_micros: '20000000' },
        headers: { 'idempotency-key': 'auto-20' },
      })
      expect(plain.status, plain.text).toBe(200)
      expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ topUps: 1, collected: 1 })
      expect(await transfersFrom(chain, wallet.address)).toEqual([50_000_000n, 20_000_000n])
      expect((await creditLines(db, orgId)).map((c) => [c.kind, c.amount])).toEqual([
        ['prepaid_topup', 50_000_000n],
        ['prepaid_bonus', 5_000_000n],
        ['prepaid_topup', 20_000_000n],
      ])
      const after = await api.call('GET', '/v1/billing', { key: org.api_key })
      expect(after.json.top_up.last).toMatchObject({
        auto: true,
        amount: { micros: '20000000' },
        bonus: { micros: '0', usd: '$0.00' },
      })
      expect(await reconciled(db, chain, orgId)).toEqual([])
    } finally {
      await api.stop()
    }
  })
})
