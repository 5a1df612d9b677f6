// bench:settle — settle 1,000 orgs' accrued usage on anvil against the real USDC: Tollgate's
// batched collection vs a naive one-transaction-per-charge run, in one script. Authorization
// transactions are not counted in either. Last line is machine-readable.
import { randomUUID } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { collectorAbi } from '../../src/chain/abis.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { createSigner } from '../../src/chain/clients.js'
import { deployContracts, mintUsdc } from '../../src/chain/deployContracts.js'
import { anvilKeys, loadConfig } from '../../src/config/index.js'
import { bookCharges, createMeter, markChargeCollected } from '../../src/ledger/index.js'
import type { SettlementContext } from '../../src/settlement/context.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import {
  permitTypedData,
  subscriptionKey,
  termsTypedData,
} from '../../src/subscriptions/typedData.js'
import { openBillingAccount } from '../../test/support/openBillingAccount.js'
import { benchDatabase } from './benchDb.js'

const ORGS = Number(process.env.BENCH_ORGS ?? 1_000)
const BATCH = 100
const config = loadConfig({})
const anvil = await startAnvil({ port: 0, args: ['--gas-limit', '60000000'] })
const bench = await benchDatabase('settle', 8)
try {
  const deployer = await createSigner(anvil.rpcUrl, anvilKeys[0], { nonceManager: true })
  const operator = await createSigner(anvil.rpcUrl, anvilKeys[1])
  const deployment = await deployContracts(deployer, {
    admin: deployer.account.address,
    operators: [operator.account.address],
    payee: privateKeyToAccount(anvilKeys[2]).address,
  })
  const { db } = bench
  const w = { db, operator, deployment }
  process.stdout.write(`bench:settle — authorizing ${ORGS} owners (not counted)…\n`)
  const orgs: { orgId: string; subscriptionId: string }[] = []
  for (let i = 0; i < ORGS; i++) {
    const owner = privateKeyToAccount(generatePrivateKey())
    await mintUsdc(deployer, deployment, { to: owner.address, amount: 1_000_000n })
    const orgId = randomUUID()
    const { subscriptionId } = await openBillingAccount(db, { orgId, signupCreditMicros: 0n })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const permit = await permitTypedData(operator, {
      token: deployment.usdc,
      owner: owner.address,
      spender: deployment.collector!,
      value: 500_000n,
      deadline,
    })
    const signature = await owner.signTypedData(permit)
    // Opening takes the owner's terms too: the lifetime cap, no monthly limit.
    const terms = { cap: 500_000n, limit: 0n, period: 30 * 86_400, nonce: 1, deadline }
    const termsSignature = await owner.signTypedData(
      termsTypedData({
        chainId: deployment.chainId,
        collector: deployment.collector!,
        message: { subscription: subscriptionKey(subscriptionId), ...terms },
      }),
    )
    await submitAuthorization(w, {
      orgId,
      subscriptionId,
      auth: {
        owner: owner.address,
        permit: { value: 500_000n, deadline, nonce: permit.message.nonce, signature },
        terms: { ...terms, signature: termsSignature },
      },
    })
    orgs.push({ orgId, subscriptionId })
  }
  const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
  const accrue = () =>
    Promise.all(
      orgs.map((o, i) =>
        meter.meter({ orgId: o.orgId, action: 'claim_issue', quantity: 1 + (i % 5) }),
      ),
    )

  // Tollgate: batched collection.
  await accrue()
  const ctx: SettlementContext = {
    db,
    operator,
    deployment,
    thresholdMicros: 1n,
    maxAccrualAgeSeconds: 86_400,
    confirmations: 1,
    batchSize: BATCH,
  }
  const startBlock = await operator.getBlockNumber({ cacheTime: 0 })
  const report = await settleOnce(ctx)
  const endBlock = await operator.getBlockNumber({ cacheTime: 0 })
  const batched = {
    charges: report.collected,
    txs: report.txHashes.length,
    blocks: Number(endBlock - startBlock),
    gas: report.gasUsed,
  }

  // Naive: the same number of charges, one `collect` transaction each.
  await accrue()
  let naiveGas = 0n
  let naiveTxs = 0
  const naiveStart = await operator.getBlockNumber({ cacheTime: 0 })
  for (const o of orgs) {
    for (const c of await bookCharges(db, { orgId: o.orgId })) {
      const hash = await operator.writeContract({
        address: deployment.collector!,
        abi: collectorAbi,
        functionName: 'collect',
        args: [
          {
            subscription: subscriptionKey(c.subscriptionId),
            seq: c.seq,
            window: c.windowIndex,
            amount: c.amount,
          },
        ],
      })
      const receipt = await operator.waitForTransactionReceipt({ hash })
      naiveGas += receipt.gasUsed
      naiveTxs++
      await markChargeCollected(db, { chargeId: c.id, txHash: hash })
    }
  }
  const naiveBlocks = Number((await operator.getBlockNumber({ cacheTime: 0 })) - naiveStart)
  await meter.close()

  await indexChain(ctx)
  const mismatches = await reconcileWithChain(ctx)
  const perCharge = batched.gas / BigInt(batched.charges || 1)
  const naivePerCharge = naiveGas / BigInt(naiveTxs || 1)
  const ratio = Number(perCharge) / Number(naivePerCharge)
  process.stdout.write(
    [
      `tollgate  charges ${batched.charges}  txs ${batched.txs}  blocks ${batched.blocks}  gas ${batched.gas}  gas/charge ${perCharge}`,
      `naive     charges ${naiveTxs}  txs ${naiveTxs}  blocks ${naiveBlocks}  gas ${naiveGas}  gas/charge ${naivePerCharge}`,
      `gas per charge: ${ratio.toFixed(3)}× the naive run; reconcile mismatches: ${mismatches.length}`,
      `bench:settle charges=${batched.charges} txs=${batched.txs} gas_ratio=${ratio.toFixed(3)} mismatches=${mismatches.length}`,
      '',
    ].join('\n'),
  )
} finally {
  await bench.drop()
  await anvil.stop()
}
