import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http'
import { wrapFetchWithPayment } from '@x402/fetch'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { startApi } from '../api/server.js'
import { attachChain } from '../browser/browser.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { agentClient, signRaw } from './helpers.js'

/** A fresh agent wallet holding `usdc` micro-USDC. */
async function agent(chain: TestChain, usdc: bigint) {
  const account = privateKeyToAccount(generatePrivateKey())
  await mintUsdc(chain.deployer, chain.deployment, { to: account.address, amount: usdc })
  return account
}

/** The token's Transfer events from `from` to the payee, over the whole test chain. */
const transfersFrom = (chain: TestChain, from: `0x${string}`) =>
  chain.operator.getContractEvents({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    eventName: 'Transfer',
    args: { from, to: chain.deployment.payee },
    fromBlock: 0n,
  })

/** An `@x402/fetch` agent that also keeps every request it sent (to replay one by hand). */
function payingFetch(account: ReturnType<typeof privateKeyToAccount>) {
  const sent: Request[] = []
  const recording = (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    sent.push(req.clone())
    return fetch(req)
  }
  return { fetch: wrapFetchWithPayment(recording, agentClient(account)), sent }
}

async function start(db: Parameters<typeof startApi>[0], chain: TestChain) {
  // No signup credit: a new org cannot pay until it is topped up.
  const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
  attachChain(api, chain)
  return api
}

const prepaidCredits = (db: { $client: import('postgres').Sql }, orgId: string) =>
  db.$client<{ source: string; amount: string }[]>`
    select source, amount::text from prepaid_credits where org_id = ${orgId} order by created_at`

describe('x402 over HTTP: a 402 offers a top-up, @x402/fetch pays it, the request is served', () => {
  test('no credit → 402 with the envelope and the requirements; $1 paid once, the action metered from it', async ({
    db,
    chain,
  }) => {
    const api = await start(db, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'agent org', owner_address: owner.address },
    })
    expect(org.status).toBe(201)
    const key = org.json.api_key as string
    const orgId = org.json.org.id as string

    // The plain 402: the spec's envelope and text, and x402 v2 requirements in the header.
    const refused = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'first-try' },
    })
    expect(refused.status).toBe(402)
    expect(refused.json.error).toMatchObject({ code: 'BILLING_INACTIVE', reason: 'no_credit' })
    expect(refused.json.error.message).toMatch(/^BILLING_INACTIVE: /)
    const required = decodePaymentRequiredHeader(refused.headers.get('payment-required')!)
    expect(required.x402Version).toBe(2)
    expect(required.accepts[0]).toMatchObject({
      scheme: 'exact',
      network: `eip155:${chain.deployment.chainId}`,
      asset: chain.deployment.usdc,
      amount: '1000000',
      payTo: chain.deployment.payee,
      extra: { maxAmount: '100000000' },
    })

    // The agent pays with @x402/fetch and its request is served.
    const wallet = await agent(chain, 3_000_000n)
    const payer = payingFetch(wallet)
    const init = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': 'paid-try',
      },
      body: JSON.stringify({ action: 'save_comment' }),
    }
    const paid = await payer.fetch(`${api.url}/v1/usage`, init)
    const body = await paid.json()
    expect(paid.status, JSON.stringify(body)).toBe(201)
    expect(body.metered).toMatchObject({ action: 'save_comment', price_micros: '5000' })
    const settlement = decodePaymentResponseHeader(paid.headers.get('payment-response')!)
    expect(settlement).toMatchObject({ success: true, payer: wallet.address.toLowerCase() })

    // The ledger: the top-up, then the action paid from it.
    const credits = await prepaidCredits(db, orgId)
    expect(credits).toEqual([{ source: 'x402', amount: '1000000' }])
    const ledger = await api.call('GET', '/v1/billing/transactions', { key })
    const kinds = (ledger.json.transactions as { kind: string }[]).map((t) => t.kind)
    expect(kinds).toContain('prepaid_x402')
    expect(kinds).toContain('usage_prepaid')
    const status = await api.call('GET', '/v1/billing', { key })
    expect(status.json.prepaid_balance?.micros).toBe('995000')

    // The chain: one transfer of $1 from the agent to the payee, in the settled transaction.
    const transfers = await transfersFrom(chain, wallet.address)
    expect(transfers.map((t) => [t.args.value, t.transactionHash])).toEqual([
      [1_000_000n, settlement.transaction],
    ])

    // The same paid request again (same PAYMENT-SIGNATURE, same key): served, not charged again.
    const last = payer.sent.at(-1)!
    expect(last.headers.get('payment-signature')).toBeTruthy()
    const again = await fetch(last.clone())
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await prepaidCredits(db, orgId)).toEqual(credits)
    expect(await transfersFrom(chain, wallet.address)).toHaveLength(1)
    expect(await usdcBalance(chain, wallet.address)).toBe(2_000_000n)

    // The payment history lists the top-up as a payment: who paid, how much, its transaction.
    const receipt = await chain.operator.getTransactionReceipt({
      hash: settlement.transaction as `0x${string}`,
    })
    const history = await api.call('GET', '/v1/billing/payments', { key })
    expect(history.status).toBe(200)
    expect(history.json.payments).toEqual([
      {
        kind: 'x402_top_up',
        event: 'AuthorizationUsed',
        status: 'settled',
        subscription_id: null,
        seq: null,
        amount: { micros: '1000000', usd: '$1.00' },
        payer: wallet.address.toLowerCase(),
        // Money to the payee; `recipient` and `refund_id` name a refund paid back to the owner.
        direction: 'to_payee',
        recipient: null,
        refund_id: null,
        failure_reason: null,
        tx_hash: settlement.transaction,
        block: receipt.blockNumber.toString(),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        // A local chain has no explorer (src/chain/explorer.ts).
        explorer_url: null,
      },
    ])
    const [{ n }] = (await db.$client`select count(*)::int as n from usage where org_id = ${orgId}
      and status in ('recorded', 'committed')`) as unknown as [{ n: number }]
    expect(n).toBe(1)

    // reconcile: the payment matches its Transfer and its credit; a payment the chain does not
    // back (here: its value altered) is named.
    const rctx = { db, client: chain.operator, deployment: chain.deployment }
    expect(await reconcileWithChain(rctx, { orgId })).toEqual([])
    await db.$client`update x402_payments set value = value + 1 where org_id = ${orgId}`
    try {
      const found = await reconcileWithChain(rctx, { orgId })
      expect(found.map((m) => [m.table, m.field])).toEqual([
        ['x402_payments', 'value'],
        ['x402_payments', 'value'],
      ])
    } finally {
      await db.$client`update x402_payments set value = value - 1 where org_id = ${orgId}`
    }
    await api.stop()
  }, 120_000)

  test('a refused payment credits nothing and answers 402 with the requirements again', async ({
    db,
    chain,
  }) => {
    const api = await start(db, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'refused', owner_address: owner.address },
    })
    const refused = await api.call('POST', '/v1/usage', {
      key: org.json.api_key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'r1' },
    })
    const required = decodePaymentRequiredHeader(refused.headers.get('payment-required')!)
    const wallet = await agent(chain, 3_000_000n)
    const other = privateKeyToAccount(generatePrivateKey()).address
    const { header } = await signRaw(wallet, required, { to: other })
    const answer = await api.call('POST', '/v1/usage', {
      key: org.json.api_key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'r2', 'payment-signature': header },
    })
    expect(answer.status).toBe(402)
    expect(answer.json.error).toMatchObject({ code: 'PAYMENT_REFUSED', reason: 'payee' })
    expect(answer.headers.get('payment-required')).toBeTruthy()
    expect(await prepaidCredits(db, org.json.org.id)).toEqual([])
    expect(await usdcBalance(chain, wallet.address)).toBe(3_000_000n)
    await api.stop()
  }, 60_000)

  test('the agent may pay more than the offer, up to the max: all of it is credited', async ({
    db,
    chain,
  }) => {
    const api = await start(db, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'pays more', owner_address: owner.address },
    })
    const key = org.json.api_key as string
    const refused = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'm1' },
    })
    const required = decodePaymentRequiredHeader(refused.headers.get('payment-required')!)
    const wallet = await agent(chain, 3_000_000n)
    const { header } = await signRaw(wallet, required, { value: 2_500_000n })
    const paid = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'm2', 'payment-signature': header },
    })
    expect(paid.status, JSON.stringify(paid.json)).toBe(201)
    expect(await prepaidCredits(db, org.json.org.id)).toEqual([
      { source: 'x402', amount: '2500000' },
    ])
    const status = await api.call('GET', '/v1/billing', { key })
    expect(status.json.prepaid_balance?.micros).toBe('2495000')
    expect(await usdcBalance(chain, wallet.address)).toBe(500_000n)
    await api.stop()
  }, 60_000)

  test('a paid sign-up gets no signup credit: the payment is its balance (docs/x402.md)', async ({
    db,
    chain,
  }) => {
    // The voucher is on ($2): a free sign-up gets it, a paid one does not.
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '2000000' })
    attachChain(api, chain)
    const wallet = await agent(chain, 2_000_000n)
    const res = await payingFetch(wallet).fetch(`${api.url}/v1/x402/orgs`, { method: 'POST' })
    const signup = await res.json()
    expect(res.status, JSON.stringify(signup)).toBe(201)
    expect(signup).toMatchObject({ prepaid: { micros: '1000000' }, signup_credit: { micros: '0' } })
    const billing = await api.call('GET', '/v1/billing', { key: signup.api_key })
    expect(billing.json.signup_credit.micros).toBe('0')
    expect(billing.json.prepaid_balance.micros).toBe('1000000')

    const free = await api.call('POST', '/v1/orgs', {
      body: { name: 'free', owner_address: privateKeyToAccount(generatePrivateKey()).address },
    })
    expect(free.json.signup_credit.micros).toBe('2000000')
    await api.stop()
  }, 60_000)

  test('sign-up over x402: org, key and prepaid balance; work until spent; then a top-up is offered', async ({
    db,
    chain,
  }) => {
    const api = await start(db, chain)
    const unpaid = await api.call('POST', '/v1/x402/orgs', { body: {} })
    expect(unpaid.status).toBe(402)
    expect(unpaid.json.error.code).toBe('PAYMENT_REQUIRED')
    expect(unpaid.headers.get('payment-required')).toBeTruthy()

    const wallet = await agent(chain, 5_000_000n)
    const payer = payingFetch(wallet)
    const res = await payer.fetch(`${api.url}/v1/x402/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'paid by an agent' }),
    })
    const signup = await res.json()
    expect(res.status, JSON.stringify(signup)).toBe(201)
    expect(signup).toMatchObject({
      org: { owner_address: wallet.address.toLowerCase() },
      prepaid: { micros: '1000000' },
      api_key: expect.stringMatching(/^tg_live_/),
    })
    expect(res.headers.get('payment-response')).toBeTruthy()
    const key = signup.api_key as string
    const [row] = await db.$client`select name, owner_address from orgs where id = ${signup.org.id}`
    expect(row).toEqual({ name: 'paid by an agent', owner_address: wallet.address.toLowerCase() })

    // The same payment again: the same org, no second key, nothing paid twice.
    const again = await fetch(payer.sent.at(-1)!.clone())
    const replay = await again.json()
    expect(again.status).toBe(200)
    expect(replay).toMatchObject({ org: { id: signup.org.id }, api_key: null })
    expect(await prepaidCredits(db, signup.org.id)).toEqual([{ source: 'x402', amount: '1000000' }])
    expect(await usdcBalance(chain, wallet.address)).toBe(4_000_000n)

    // $1 is 200 comments at $0.005: the 200th is served, the 201st refused with a top-up.
    for (let i = 0; i < 2; i++) {
      const used = await api.call('POST', '/v1/usage', {
        key,
        body: { action: 'save_comment', quantity: 100 },
        headers: { 'idempotency-key': `spend-${i}` },
      })
      expect(used.status, JSON.stringify(used.json)).toBe(201)
    }
    const spent = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'spend-more' },
    })
    expect(spent.status).toBe(402)
    expect(spent.json.error.code).toBe('BILLING_INACTIVE')
    const offer = decodePaymentRequiredHeader(spent.headers.get('payment-required')!)
    expect(offer.accepts[0]).toMatchObject({ amount: '1000000', payTo: chain.deployment.payee })
    await api.stop()
  }, 120_000)
})
