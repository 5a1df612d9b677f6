import { parseEventLogs } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { acceptPayment } from '../../src/x402/acceptPayment.js'
import { paymentRequired } from '../../src/x402/paymentRequired.js'
import { describe, expect, test } from '../fixtures.js'
import { answeredRejection } from '../support/answered.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { pay, signRaw, x402Context } from './helpers.js'

/** A fresh agent wallet holding `usdc` micro-USDC. */
async function agent(chain: Parameters<typeof x402Context>[1], usdc: bigint) {
  const account = privateKeyToAccount(generatePrivateKey())
  if (usdc > 0n)
    await mintUsdc(chain.deployer, chain.deployment, { to: account.address, amount: usdc })
  return account
}

describe('x402 payments: verified as the token will, recorded, settled once', () => {
  test('a $1 payment from @x402/fetch settles with one transfer; the same header again moves nothing', async ({
    db,
    chain,
  }) => {
    const ctx = await x402Context(db, chain)
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    expect(required.accepts[0]).toMatchObject({
      scheme: 'exact',
      network: `eip155:${chain.deployment.chainId}`,
      amount: '1000000',
      payTo: chain.deployment.payee,
      extra: { name: 'USD Coin', version: '2' },
    })
    const wallet = await agent(chain, 5_000_000n)
    const payeeBefore = await usdcBalance(chain, chain.deployment.payee)
    const { header } = await pay(wallet, required)
    const orgId = crypto.randomUUID()
    const first = await acceptPayment(ctx, { header, purpose: 'topup', orgId })
    expect(first.status).toBe('settled')
    expect(first.value).toBe(1_000_000n)
    expect(first.payer).toBe(wallet.address.toLowerCase())
    const again = await acceptPayment(ctx, { header, purpose: 'topup', orgId })
    expect(again.id).toBe(first.id)
    expect(again.txHash).toBe(first.txHash)
    expect(await usdcBalance(chain, wallet.address)).toBe(4_000_000n)
    expect((await usdcBalance(chain, chain.deployment.payee)) - payeeBefore).toBe(1_000_000n)
    const receipt = await chain.operator.getTransactionReceipt({ hash: first.txHash! })
    const transfers = parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: receipt.logs })
    expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).toEqual([
      [wallet.address, chain.deployment.payee, 1_000_000n],
    ])
    // Presented for another org, it is refused, not moved again.
    await expect(
      acceptPayment(ctx, { header, purpose: 'topup', orgId: crypto.randomUUID() }),
    ).rejects.toMatchObject({ code: 'PAYMENT_REFUSED' })
    const [{ n }] = (await db.$client`select count(*)::int as n from x402_payments
      where payer = ${wallet.address.toLowerCase()}`) as unknown as [{ n: number }]
    expect(n).toBe(1)
  })

  test('the payment-identifier is an idempotency key: a re-signed retry gets the first payment', async ({
    db,
    chain,
  }) => {
    const ctx = await x402Context(db, chain)
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    const wallet = await agent(chain, 3_000_000n)
    const orgId = crypto.randomUUID()
    const id = `pay_${crypto.randomUUID().replaceAll('-', '')}`
    const a = await pay(wallet, required, id)
    const b = await pay(wallet, required, id)
    expect(a.header).not.toBe(b.header)
    const first = await acceptPayment(ctx, { header: a.header, purpose: 'topup', orgId })
    const second = await acceptPayment(ctx, { header: b.header, purpose: 'topup', orgId })
    expect(second.id).toBe(first.id)
    expect(first.paymentId).toBe(id)
    expect(await usdcBalance(chain, wallet.address)).toBe(2_000_000n)
  })

  test('refused as the token would refuse, nothing recorded or moved', async ({ db, chain }) => {
    const ctx = await x402Context(db, chain)
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    const wallet = await agent(chain, 10_000_000n)
    const poor = await agent(chain, 0n)
    const now = BigInt(Math.floor(Date.now() / 1000))
    const other = privateKeyToAccount(generatePrivateKey()).address
    const orgId = crypto.randomUUID()
    const cases: [string, Promise<{ header: string }>][] = [
      ['payee', signRaw(wallet, required, { to: other })],
      ['network', signRaw(wallet, required, { network: 'eip155:8453', chainId: 8453 })],
      ['asset', signRaw(wallet, required, { token: other })],
      ['amount', signRaw(wallet, required, { value: 999_999n })],
      ['amount', signRaw(wallet, required, { value: 100_000_001n })],
      ['expired', signRaw(wallet, required, { validBefore: now - 1n })],
      ['not_yet_valid', signRaw(wallet, required, { validAfter: now + 3_600n })],
      ['signature', signRaw(wallet, required, { chainId: 1 })],
      ['insufficient_funds', signRaw(poor, required)],
      ['malformed', Promise.resolve({ header: 'not base64 json' })],
    ]
    for (const [reason, signed] of cases) {
      const { header } = await signed
      await expect(
        answeredRejection(acceptPayment(ctx, { header, purpose: 'topup', orgId })),
        reason,
      ).rejects.toMatchObject({ code: 'PAYMENT_REFUSED', status: 402, details: { reason } })
    }
    // A nonce the payer already used elsewhere (here: submitted by itself to the payee).
    const used = await signRaw(wallet, required)
    const a = used.payload.payload as {
      authorization: Record<string, string>
      signature: `0x${string}`
    }
    const self = await chain.signerFor(generatePrivateKey())
    await chain.testClient.setBalance({ address: self.account.address, value: 10n ** 18n })
    await self.writeContract({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      functionName: 'transferWithAuthorization',
      args: [
        a.authorization.from as `0x${string}`,
        a.authorization.to as `0x${string}`,
        BigInt(a.authorization.value!),
        BigInt(a.authorization.validAfter!),
        BigInt(a.authorization.validBefore!),
        a.authorization.nonce as `0x${string}`,
        a.signature,
      ],
    })
    await expect(
      acceptPayment(ctx, { header: used.header, purpose: 'topup', orgId }),
    ).rejects.toMatchObject({ details: { reason: 'nonce_used' } })
    const [{ n }] = (await db.$client`select count(*)::int as n from x402_payments
      where payer in (${wallet.address.toLowerCase()}, ${poor.address.toLowerCase()})`) as unknown as [
      { n: number },
    ]
    expect(n).toBe(0)
    expect(await usdcBalance(chain, wallet.address)).toBe(9_000_000n)
  })

  test('a payer whose funds leave between verify and settle: the settle fails, nothing credited, a clear 402', async ({
    db,
    chain,
  }) => {
    const key = generatePrivateKey()
    const wallet = privateKeyToAccount(key)
    await mintUsdc(chain.deployer, chain.deployment, { to: wallet.address, amount: 1_000_000n })
    await chain.testClient.setBalance({ address: wallet.address, value: 10n ** 18n })
    const elsewhere = privateKeyToAccount(generatePrivateKey()).address
    // Verified and recorded with the funds there; then the payer moves them away.
    const ctx = await x402Context(db, chain, {
      onStep: async (step) => {
        if (step !== 'recorded') return
        const self = await chain.signerFor(key)
        const hash = await self.writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'transfer',
          args: [elsewhere, 1_000_000n],
        })
        await self.waitForTransactionReceipt({ hash })
      },
    })
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    const { header } = await pay(wallet, required)
    const orgId = crypto.randomUUID()
    await expect(
      answeredRejection(acceptPayment(ctx, { header, purpose: 'topup', orgId })),
    ).rejects.toMatchObject({
      code: 'PAYMENT_REFUSED',
      status: 402,
      details: { reason: 'insufficient_funds' },
    })
    const rows = await db.$client`select status, failure_reason, credited_at from x402_payments
      where payer = ${wallet.address.toLowerCase()}`
    expect(rows).toEqual([
      { status: 'failed', failure_reason: 'insufficient_funds', credited_at: null },
    ])
    const [{ n }] = (await db.$client`select count(*)::int as n from prepaid_credits
      where org_id = ${orgId}`) as unknown as [{ n: number }]
    expect(n).toBe(0)
    expect(await usdcBalance(chain, elsewhere)).toBe(1_000_000n)
    // Presented again: the same refusal, nothing sent.
    await expect(acceptPayment(ctx, { header, purpose: 'topup', orgId })).rejects.toMatchObject({
      code: 'PAYMENT_REFUSED',
    })
  })

  test('an operator without gas settles nothing; the same authorization settles once it has gas', async ({
    db,
    chain,
  }) => {
    const ctx = await x402Context(db, chain)
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    const wallet = await agent(chain, 2_000_000n)
    const { header } = await pay(wallet, required)
    const orgId = crypto.randomUUID()
    const op = chain.operator.account.address
    const eth = await chain.operator.getBalance({ address: op })
    await chain.testClient.setBalance({ address: op, value: 0n })
    try {
      await expect(
        answeredRejection(acceptPayment(ctx, { header, purpose: 'topup', orgId })),
      ).rejects.toMatchObject({
        code: 'PAYMENT_PENDING',
        status: 503,
      })
      const [row] =
        await db.$client`select status from x402_payments where payer = ${wallet.address.toLowerCase()}`
      expect(row).toEqual({ status: 'recorded' })
      expect(await usdcBalance(chain, wallet.address)).toBe(2_000_000n)
    } finally {
      await chain.testClient.setBalance({ address: op, value: eth })
    }
    const later = await acceptPayment(ctx, { header, purpose: 'topup', orgId })
    expect(later.status).toBe('settled')
    expect(await usdcBalance(chain, wallet.address)).toBe(1_000_000n)
  })

  test('a settle whose wait times out is resolved from the chain, never sent twice', async ({
    db,
    chain,
  }) => {
    const ctx = await x402Context(db, chain, { settleTimeoutMs: 1_500 })
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    const wallet = await agent(chain, 2_000_000n)
    const { header } = await pay(wallet, required)
    const orgId = crypto.randomUUID()
    await chain.testClient.setAutomine(false)
    try {
      await expect(acceptPayment(ctx, { header, purpose: 'topup', orgId })).rejects.toMatchObject({
        code: 'PAYMENT_PENDING',
      })
      const [row] =
        await db.$client`select status from x402_payments where payer = ${wallet.address.toLowerCase()}`
      expect(row).toEqual({ status: 'settling' })
      await chain.testClient.mine({ blocks: 1 })
    } finally {
      await chain.testClient.setAutomine(true)
    }
    const settled = await acceptPayment(ctx, { header, purpose: 'topup', orgId })
    expect(settled.status).toBe('settled')
    const [{ n }] = (await db.$client`select count(*)::int as n from operator_txs
      where purpose = ${`x402:${settled.id}`}`) as unknown as [{ n: number }]
    expect(n).toBe(1)
    expect(await usdcBalance(chain, wallet.address)).toBe(1_000_000n)
  })
})
