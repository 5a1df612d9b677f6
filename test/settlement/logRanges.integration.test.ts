import { collectorAbi } from '../../src/chain/abis.js'
import { createSigner } from '../../src/chain/clients.js'
import { getLogsInRanges } from '../../src/chain/getLogsInRanges.js'
import { anvilKeys } from '../../src/config/index.js'
import { listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { cappedRpc } from './cappedRpc.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('log reads on an RPC that caps log ranges', () => {
  test('a worker that died after its batch landed is recovered through an RPC serving at most 10 blocks per getLogs', async ({
    db,
    chain,
  }) => {
    const meter = makeMeter(db)
    const rpc = await cappedRpc(chain.rpcUrl, 10n)
    try {
      const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      // The worker dies once the receipt is in, before recording it: the charge stays submitted.
      const dying = settlementContext(db, chain, {
        thresholdMicros: 1n,
        onStep: (step) => {
          if (step === 'receipt') throw new Error('killed')
        },
      })
      await expect(settleOnce(dying, { orgIds: [org.orgId] })).rejects.toThrow('killed')
      await chain.testClient.mine({ blocks: 40 })
      // A fresh worker on the capped RPC asks the chain which seqs landed.
      const operator = await createSigner(rpc.url, anvilKeys[1])
      const ctx = settlementContext(db, chain, { operator, maxLogRange: 10n, thresholdMicros: 1n })
      const report = await settleOnce(ctx, { orgIds: [org.orgId], recoverOlderThanSeconds: 0 })
      expect(report).toMatchObject({ recovered: 1, collected: 0, failed: [] })
      expect((await listCharges(db, { orgId: org.orgId })).map((c) => c.status)).toEqual([
        'collected',
      ])
      expect(rpc.state.widest).toBeLessThanOrEqual(10n)
      expect(rpc.state.refused).toBe(0)
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await meter.close()
      await rpc.close()
    }
  })

  test('a range the RPC still refuses is halved until it is served; reads keep block order both ways', async ({
    db,
    chain,
  }) => {
    const meter = makeMeter(db)
    const rpc = await cappedRpc(chain.rpcUrl, 4n)
    try {
      const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
      const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      for (let i = 0; i < 3; i++) {
        await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
        await settleOnce(ctx, { orgIds: [org.orgId] })
        await chain.testClient.mine({ blocks: 7 })
      }
      const fromBlock = BigInt(chain.deployment.blocks.collector ?? 0)
      const all = await chain.operator.getContractEvents({
        address: chain.deployment.collector!,
        abi: collectorAbi,
        eventName: 'Collected',
        fromBlock,
      })
      expect(all.length).toBeGreaterThanOrEqual(3)
      const capped = await createSigner(rpc.url, anvilKeys[1])
      const read = (range: { fromBlock: bigint; toBlock: bigint }) =>
        capped.getContractEvents({
          address: chain.deployment.collector!,
          abi: collectorAbi,
          eventName: 'Collected',
          ...range,
        })
      const hashes = (logs: readonly { transactionHash: string; logIndex: number }[]) =>
        logs.map((l) => `${l.transactionHash}:${l.logIndex}`)
      // No cap configured (2,000 blocks): the RPC's refusals narrow the reads to what it serves.
      const forward = await getLogsInRanges(capped, { fromBlock, read })
      expect(hashes(forward)).toEqual(hashes(all))
      expect(rpc.state.refused).toBeGreaterThan(0)
      expect(rpc.state.widest).toBeLessThanOrEqual(4n)
      const backward = await getLogsInRanges(capped, {
        fromBlock,
        maxRange: 3n,
        direction: 'backward',
        read,
      })
      expect(hashes(backward)).toEqual(hashes(all))
      // Newest first, stopping at the first hit: only the latest pull's range is read.
      const latest = await getLogsInRanges(capped, {
        fromBlock,
        maxRange: 3n,
        direction: 'backward',
        stop: (found) => found.length > 0,
        read,
      })
      expect(hashes(latest)).toEqual(hashes(all.slice(-1)))
      // Any other error is the caller's.
      await expect(
        getLogsInRanges(capped, {
          fromBlock,
          read: async () => {
            throw new Error('connection refused')
          },
        }),
      ).rejects.toThrow('connection refused')
    } finally {
      await meter.close()
      await rpc.close()
    }
  })
})
