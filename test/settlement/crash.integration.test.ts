import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collectorAbi, usdcAbi } from '../../src/chain/abis.js'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { unpackCollected } from '../../src/settlement/context.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

const steps = ['claimed', 'signed', 'sent', 'receipt', 'random'] as const

describe('crash safety', () => {
  test('the settling process SIGKILLed at every step, 25 trials: no double pull, no lost charge', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const deploymentFile = join(tmpdir(), `tg-deployment-${process.pid}-${Date.now()}.json`)
    writeFileSync(deploymentFile, JSON.stringify(chain.deployment))
    const meter = makeMeter(db)
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    for (let trial = 0; trial < 25; trial++) {
      const step = steps[trial % steps.length]!
      const orgs = await Promise.all(
        [0, 1].map(() => authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })),
      )
      for (const o of orgs)
        for (let i = 0; i < 3 + trial; i++)
          await meter.meter({ orgId: o.orgId, action: 'save_comment' })
      const child = spawn('node', ['--import', 'tsx', 'test/settlement/settleChild.ts'], {
        env: {
          ...process.env,
          CRASH_AT: step,
          CRASH_DB_URL: databaseUrl,
          CRASH_RPC_URL: chain.rpcUrl,
          CRASH_DEPLOYMENT: deploymentFile,
          CRASH_ORGS: orgs.map((o) => o.orgId).join(','),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      if (step === 'random')
        setTimeout(() => child.kill('SIGKILL'), 1_500 + Math.floor(Math.random() * 1_500))
      const signal = await new Promise((r) => child.on('exit', (_code, sig) => r(sig)))
      // The fixed steps are always reached: the child really died there.
      if (step !== 'random')
        expect({ trial, step, signal }).toEqual({ trial, step, signal: 'SIGKILL' })
      // A fresh worker takes over: it reconciles the dead one's batch with the chain, then settles.
      await settleOnce(ctx, { orgIds: orgs.map((o) => o.orgId), recoverOlderThanSeconds: 0 })
      for (const o of orgs) {
        const expected = 5_000n * BigInt(3 + trial)
        const s = await getBillingSummary(db, o.orgId)
        expect({ trial, step, drawn: s.drawn, accrued: s.accrued, booked: s.booked }).toEqual({
          trial,
          step,
          drawn: expected,
          accrued: 0n,
          booked: 0n,
        })
        const key = subscriptionKey(o.subscriptionId)
        const sub = await chain.deployer.readContract({
          address: chain.deployment.collector!,
          abi: collectorAbi,
          functionName: 'getSubscription',
          args: [key],
        })
        expect(sub.totalCollected).toBe(expected)
        expect(sub.lastSeq).toBe(1)
        const events = await chain.deployer.getContractEvents({
          address: chain.deployment.collector!,
          abi: collectorAbi,
          eventName: 'Collected',
          args: { subscription: key },
          fromBlock: 0n,
        })
        expect(events.map((e) => unpackCollected(e.args.packed!).seq)).toEqual([1])
        const balance = await chain.deployer.readContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'balanceOf',
          args: [o.owner.address],
        })
        expect(balance).toBe(1_000_000n - expected)
        expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
      }
    }
    await meter.close()
  }, 300_000)
})
