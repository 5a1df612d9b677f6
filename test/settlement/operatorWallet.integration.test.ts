import { encodeFunctionData, type Hex } from 'viem'
import { usdcAbi } from '../../src/chain/abis.js'
import { createOperatorWallet } from '../../src/chain/operatorWallet.js'
import { describe, expect, test } from '../fixtures.js'

// Harmless calls from the operator: approve(x, n) on the token, one per nonce.
const approveData = (n: bigint): Hex =>
  encodeFunctionData({
    abi: usdcAbi,
    functionName: 'approve',
    args: ['0x000000000000000000000000000000000000dEaD', n],
  })

describe('operator wallet', () => {
  test('records before broadcast, keeps its nonce in Postgres, rebroadcasts what the node forgot, replaces a stuck transaction with the same calldata', async ({
    db,
    chain,
  }) => {
    const client = chain.operator
    const usdc = chain.deployment.usdc
    const wallet = await createOperatorWallet({ db, client })
    await wallet.sync()
    const start = await client.getTransactionCount({ address: client.account.address })

    // Two sends: consecutive nonces, each recorded with its hash, both mined.
    const a = await wallet.send({ to: usdc, data: approveData(1n), purpose: 'test:a' })
    const b = await wallet.send({ to: usdc, data: approveData(2n), purpose: 'test:b' })
    expect([a.nonce, b.nonce]).toEqual([start, start + 1])
    const ra = await wallet.waitFor(a)
    const rb = await wallet.waitFor(b)
    expect([ra?.status, rb?.status]).toEqual(['success', 'success'])
    expect(ra?.transactionHash).toBe(a.hashes[0])
    const [row] = await db.$client<{ status: string; nonce: number }[]>`
      select status, nonce from operator_txs where id = ${a.id.toString()}`
    expect(row).toEqual({ status: 'mined', nonce: start })

    // A transaction the node dropped (as if the process died between recording and broadcast):
    // a new wallet (a restarted worker) syncs and broadcasts the recorded bytes again.
    await chain.testClient.setAutomine(false)
    try {
      const c = await wallet.send({ to: usdc, data: approveData(3n), purpose: 'test:c' })
      await chain.testClient.dropTransaction({ hash: c.hashes[0]! })
      expect(
        await client.getTransaction({ hash: c.hashes[0]! }).catch(() => undefined),
      ).toBeUndefined()
      const restarted = await createOperatorWallet({ db, client })
      await restarted.sync()
      expect((await client.getTransaction({ hash: c.hashes[0]! })).nonce).toBe(c.nonce)
      await chain.testClient.mine({ blocks: 1 })
      expect((await restarted.waitFor(c))?.transactionHash).toBe(c.hashes[0])

      // Stuck: not mined for a while → replaced at the same nonce with the same calldata and
      // higher fees; whichever lands is the receipt.
      const d = await restarted.send({ to: usdc, data: approveData(4n), purpose: 'test:d' })
      const replaced: Hex[] = []
      const waiting = restarted.waitFor(d, {
        replaceAfterMs: 300,
        onReplace: (h) => void replaced.push(h),
      })
      for (let i = 0; i < 40 && replaced.length === 0; i++)
        await new Promise((r) => setTimeout(r, 100))
      expect(replaced.length).toBeGreaterThanOrEqual(1)
      await chain.testClient.mine({ blocks: 1 })
      const rd = await waiting
      expect(rd?.status).toBe('success')
      const first = await client.getTransaction({ hash: rd!.transactionHash })
      expect(first.nonce).toBe(d.nonce)
      expect(first.input).toBe(approveData(4n))
      const [drow] = await db.$client<{ tx_hashes: string[]; mined_hash: string }[]>`
        select tx_hashes, mined_hash from operator_txs where id = ${d.id.toString()}`
      expect(drow!.tx_hashes.length).toBe(1 + replaced.length)
      expect(drow!.mined_hash).toBe(rd!.transactionHash)
      expect(replaced).toContain(rd!.transactionHash)
    } finally {
      await chain.testClient.setAutomine(true)
    }

    // The key used outside Tollgate: the next send takes the chain's nonce, never a used one.
    await client.sendTransaction({ to: client.account.address, value: 0n })
    const e = await wallet.send({ to: usdc, data: approveData(5n), purpose: 'test:e' })
    expect(e.nonce).toBe(
      (await client.getTransactionCount({ address: client.account.address, blockTag: 'pending' })) -
        1,
    )
    expect((await wallet.waitFor(e))?.status).toBe('success')
  })

  test('warns when the operator ETH runs low', async ({ db, chain }) => {
    const warnings: string[] = []
    const log = {
      debug: () => {},
      info: () => {},
      warn: (m: string) => void warnings.push(m),
      error: () => {},
      child: () => log,
    }
    const wallet = await createOperatorWallet({
      db,
      client: chain.operator,
      log,
      lowEthWei: 10n ** 30n,
    })
    expect((await wallet.checkFunds()).low).toBe(true)
    expect(warnings).toEqual(['operator ETH is low'])
    const rich = await createOperatorWallet({ db, client: chain.operator, log, lowEthWei: 1n })
    expect((await rich.checkFunds()).low).toBe(false)
  })
})
