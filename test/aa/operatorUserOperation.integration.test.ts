import { encodeFunctionData, type Hex, parseEventLogs } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { collectorAbi } from '../../src/chain/abis.js'
import type { SignerClient } from '../../src/chain/clients.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { newSubscriptionId } from '../../src/subscriptions/state/insertSubscription.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { sendUserOperationDirect } from '../support/sendUserOperationDirect.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, fundedSigner, newSmartOwner } from './helpers.js'

const CHARGES = 10
const AMOUNT = 1_234_567n

/**
 * `CHARGES` fresh subscriptions, each authorized on-chain by its own EOA owner through
 * `operator` (no ledger rows: only the collector is measured here), and the batch of their
 * first charges (seq 1, window 0).
 */
async function firstCharges(chain: TestChain, operator: SignerClient) {
  const charges: { subscription: Hex; seq: number; window: number; amount: bigint }[] = []
  for (let i = 0; i < CHARGES; i++) {
    const owner = privateKeyToAccount(generatePrivateKey())
    await mintUsdc(chain.deployer, chain.deployment, { to: owner.address, amount: AMOUNT })
    const subscriptionId = newSubscriptionId()
    const auth = await signAuthorization(chain, owner, { subscriptionId, value: AMOUNT })
    const hash = await operator.writeContract({
      address: chain.deployment.collector!,
      abi: collectorAbi,
      functionName: 'authorizeWithTerms',
      args: [
        subscriptionKey(subscriptionId),
        owner.address,
        { value: auth.permit.value, deadline: auth.permit.deadline, nonce: auth.permit.nonce },
        auth.permit.signature,
        auth.terms!,
        auth.terms!.signature,
      ],
    })
    expect((await operator.waitForTransactionReceipt({ hash })).status).toBe('success')
    charges.push({
      subscription: subscriptionKey(subscriptionId),
      seq: 1,
      window: 0,
      amount: AMOUNT,
    })
  }
  return charges
}

const collectedIn = (logs: Parameters<typeof parseEventLogs>[0]['logs']) =>
  parseEventLogs({ abi: collectorAbi, logs, eventName: 'Collected' }).length

/**
 * The optional operator smart account, measured before keeping it: the same batch of
 * first charges sent by the EOA operator (one `collectBatch` transaction) and by a Safe operator
 * as one ERC-4337 user operation through the EntryPoint (`handleOps`, the bundler's transaction
 * the operator would pay for). The user operation adds the EntryPoint's and the account's
 * validation to every batch, and a paymaster would add its own on top; it saves nothing the
 * collector does, so settlement stays on the EOA path. Figures printed for the record:
 * `npx vitest run test/aa/operatorUserOperation`.
 */
describe('the operator as a smart account (optional): measured against the EOA path', () => {
  test('the same batch of 10 first charges costs more gas as a Safe user operation than as an EOA transaction', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const collector = chain.deployment.collector!
    const setOperator = async (operator: `0x${string}`) => {
      const hash = await chain.deployer.writeContract({
        address: collector,
        abi: collectorAbi,
        functionName: 'setOperator',
        args: [operator, true],
      })
      await chain.deployer.waitForTransactionReceipt({ hash })
    }

    // EOA operator: a fresh key the collector's admin adds (the suite's own operator keeps its nonces).
    const eoa = await fundedSigner(chain)
    await setOperator(eoa.account.address)
    const eoaCharges = await firstCharges(chain, eoa)
    const eoaHash = await eoa.writeContract({
      address: collector,
      abi: collectorAbi,
      functionName: 'collectBatch',
      args: [eoaCharges],
    })
    const eoaReceipt = await eoa.waitForTransactionReceipt({ hash: eoaHash })
    expect(collectedIn(eoaReceipt.logs)).toBe(CHARGES)

    // Safe operator (deployed, Safe 1.4.1 with the 4337 module): the same kind of batch as one user operation.
    const safe = (await newSmartOwner(chain, rig, { kind: 'safe', deployed: true })).account
    await setOperator(safe.address)
    const safeCharges = await firstCharges(chain, eoa)
    const payee = chain.deployment.payee
    const payeeBefore = await usdcBalance(chain, payee)
    const userOperation = await sendUserOperationDirect(rig.relayer, {
      account: safe,
      calls: [
        {
          to: collector,
          data: encodeFunctionData({
            abi: collectorAbi,
            functionName: 'collectBatch',
            args: [safeCharges],
          }),
        },
      ],
      gas: { call: 3_000_000n, verification: 500_000n },
    })
    const userOperationReceipt = await chain.deployer.getTransactionReceipt({
      hash: userOperation.hash,
    })
    expect(collectedIn(userOperationReceipt.logs)).toBe(CHARGES)
    expect((await usdcBalance(chain, payee)) - payeeBefore).toBe(AMOUNT * BigInt(CHARGES))

    const figures = {
      eoaBatch: Number(eoaReceipt.gasUsed),
      userOperationBatch: Number(userOperation.gasUsed),
      perChargeEoa: Math.round(Number(eoaReceipt.gasUsed) / CHARGES),
      perChargeUserOperation: Math.round(Number(userOperation.gasUsed) / CHARGES),
    }
    console.log(
      `operator collectBatch of ${CHARGES} first charges, gas: ${JSON.stringify(figures)} (user operation / EOA = ${(figures.userOperationBatch / figures.eoaBatch).toFixed(3)})`,
    )
    expect(userOperation.gasUsed).toBeGreaterThan(eoaReceipt.gasUsed)
  })
})
