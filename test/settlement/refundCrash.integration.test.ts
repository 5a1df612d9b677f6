import { usdcAbi } from '../../src/chain/abis.js'
import { createSigner } from '../../src/chain/clients.js'
import { anvilKeys } from '../../src/config/index.js'
import { listCharges, listLedgerEntries, refund } from '../../src/ledger/index.js'
import { payRefundOnchain } from '../../src/settlement/payRefundOnchain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { describe, expect, test } from '../fixtures.js'
import { crashChildRunner } from '../support/crashChildRunner.js'
import { canceledOrgWithCharge } from './helpers.js'

const steps = ['intent', 'signed', 'sent', 'receipt', 'random'] as const

describe('crash safety of an on-chain refund payout', () => {
  test('the paying process SIGKILLed at every step, 10 trials: the owner is paid exactly once after a rerun, and reconcile matches', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const runChild = crashChildRunner({ databaseUrl, chain, name: 'refund-crash' })
    const payee = {
      db,
      payee: await createSigner(chain.rpcUrl, anvilKeys[2]),
      deployment: chain.deployment,
      confirmations: 1,
    }
    for (let trial = 0; trial < 10; trial++) {
      const step = steps[trial % steps.length]!
      // A canceled subscription whose collected charge is refunded: all of it owed on-chain.
      const org = await canceledOrgWithCharge(db, chain, 2 + trial)
      const [charge] = await listCharges(db, { orgId: org.orgId })
      const owed = 5_000n * BigInt(2 + trial)
      const key = `crash-${trial}`
      expect(
        await refund(db, {
          chargeId: charge!.id,
          reason: 'crash',
          actor: 'test',
          idempotencyKey: key,
        }),
      ).toMatchObject({ owedOnchainMicros: owed.toString() })

      const signal = await runChild({
        script: 'test/settlement/refundChild.ts',
        at: step,
        env: { CRASH_ORG: org.orgId, CRASH_KEY: key },
        killAfterMs: step === 'random' ? 1_000 + Math.floor(Math.random() * 3_000) : undefined,
      })
      // The fixed steps are always reached: the child really died there.
      if (step !== 'random')
        expect({ trial, step, signal }).toEqual({ trial, step, signal: 'SIGKILL' })

      // The operator runs it again (`tollgate refund --onchain` with the same key): it finishes
      // what the dead process recorded, or finds it paid — never a second transfer.
      const rerun = await payRefundOnchain(payee, { orgId: org.orgId, idempotencyKey: key })
      expect({ trial, step, status: rerun.status }).toEqual({ trial, step, status: 'paid' })
      const again = await payRefundOnchain(payee, { orgId: org.orgId, idempotencyKey: key })
      expect(again).toMatchObject({ status: 'paid', replayed: true })
      const transfers = await chain.deployer.getContractEvents({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        eventName: 'Transfer',
        args: { from: chain.deployment.payee, to: org.owner.address },
        fromBlock: 0n,
      })
      expect({ trial, step, paid: transfers.map((t) => t.args.value) }).toEqual({
        trial,
        step,
        paid: [owed],
      })
      const entries = (await listLedgerEntries(db, { orgId: org.orgId })).filter(
        (e) => e.kind === 'refund',
      )
      expect({ trial, step, entries: entries.map((e) => e.amount) }).toEqual({
        trial,
        step,
        entries: [owed],
      })
      expect({
        trial,
        step,
        mismatches: await reconcileWithChain(
          { db, client: chain.testClient, deployment: chain.deployment },
          { orgId: org.orgId },
        ),
      }).toEqual({ trial, step, mismatches: [] })
    }
  }, 600_000)
})
