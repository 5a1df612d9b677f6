// Measures the optional idea of issue 8: the operator as a smart account (a Safe) sending a batch
// of collections as one ERC-4337 user operation, against the EOA operator calling collectBatch.
// Whole transactions on anvil against real USDC and the real collector; same batch size, same
// warm state (a warm-up batch first, so the payee's first credit is paid by neither side).
// A paymaster would add its own validation on top of the user-operation figure.
//
//   node --import tsx scripts/aa/benchOperatorUserOp.ts [batchSize=20]
//
// Last line: {"bench":"operator-userop","batch":N,"eoaGas":…,"userOpGas":…,"ratio":…}
import { encodeFunctionData, type Hex, pad, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { collectorAbi } from '../../src/chain/abis.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { createReader, createSigner } from '../../src/chain/clients.js'
import { deployContracts, mintUsdc } from '../../src/chain/deployContracts.js'
import { anvilKeys } from '../../src/config/index.js'
import { permitTypedData, termsTypedData } from '../../src/subscriptions/typedData.js'
import { deployAaStack } from '../../test/support/deployAaStack.js'
import { deploySmartAccount } from '../../test/support/deploySmartAccount.js'
import { sendUserOperationDirect } from '../../test/support/sendUserOperationDirect.js'
import { toOwnerSmartAccount } from '../../test/support/toOwnerSmartAccount.js'

async function main() {
  const batch = Number(process.argv[2] ?? 20)
  const anvil = await startAnvil({ port: 0 })
  try {
    const deployer = await createSigner(anvil.rpcUrl, anvilKeys[0], { nonceManager: true })
    const operator = await createSigner(anvil.rpcUrl, anvilKeys[1], { nonceManager: true })
    const d = await deployContracts(deployer, {
      admin: deployer.account.address,
      operators: [operator.account.address],
      payee: privateKeyToAccount(anvilKeys[2]).address,
    })
    const collector = d.collector!
    await deployAaStack(deployer)
    const reader = await createReader(anvil.rpcUrl)
    const opSafe = await toOwnerSmartAccount(reader, {
      kind: 'safe',
      owner: privateKeyToAccount(anvilKeys[1]),
    })
    await deploySmartAccount(operator, { account: opSafe })
    await deployer.waitForTransactionReceipt({
      hash: await deployer.writeContract({
        address: collector,
        abi: collectorAbi,
        functionName: 'setOperator',
        args: [opSafe.address, true],
      }),
    })

    const subs: Hex[] = []
    for (let i = 0; i < batch; i++) {
      const owner = privateKeyToAccount(generatePrivateKey())
      await mintUsdc(deployer, d, { to: owner.address, amount: 10_000_000n })
      const permit = await permitTypedData(reader, {
        token: d.usdc,
        owner: owner.address,
        spender: collector,
        value: 10_000_000n,
        deadline: 2n ** 255n,
      })
      const sub = pad(toHex(i + 1), { size: 32 })
      const terms = {
        cap: 10_000_000n,
        limit: 0n,
        period: 30 * 86_400,
        nonce: 1,
        deadline: 2n ** 255n,
      }
      await operator.waitForTransactionReceipt({
        hash: await operator.writeContract({
          address: collector,
          abi: collectorAbi,
          functionName: 'authorizeWithTerms',
          args: [
            sub,
            owner.address,
            { value: 10_000_000n, deadline: permit.message.deadline, nonce: 0n },
            await owner.signTypedData(permit),
            terms,
            await owner.signTypedData(
              termsTypedData({
                chainId: d.chainId,
                collector,
                message: { subscription: sub, ...terms },
              }),
            ),
          ],
        }),
      })
      subs.push(sub)
    }
    const charges = (seq: number) =>
      subs.map((subscription) => ({ subscription, seq, window: 0, amount: 1_000n }))
    const eoaBatch = async (seq: number) => {
      const hash = await operator.writeContract({
        address: collector,
        abi: collectorAbi,
        functionName: 'collectBatch',
        args: [charges(seq)],
      })
      return (await operator.waitForTransactionReceipt({ hash })).gasUsed
    }
    await eoaBatch(1) // warm-up
    const eoaGas = await eoaBatch(2)
    const { gasUsed: userOpGas } = await sendUserOperationDirect(operator, {
      account: opSafe,
      calls: [
        {
          to: collector,
          data: encodeFunctionData({
            abi: collectorAbi,
            functionName: 'collectBatch',
            args: [charges(3)],
          }),
        },
      ],
      gas: { call: 200_000n + 80_000n * BigInt(batch) },
    })
    const lastSeq = await reader.readContract({
      address: collector,
      abi: collectorAbi,
      functionName: 'lastSeq',
      args: [subs[0]!],
    })
    if (lastSeq !== 3) throw new Error(`the user operation did not collect (lastSeq ${lastSeq})`)
    const ratio = Number(userOpGas) / Number(eoaGas)
    console.log(`batch of ${batch} collections, whole transactions:`)
    console.log(`  EOA operator, collectBatch        ${eoaGas} gas`)
    console.log(`  Safe operator, one user operation ${userOpGas} gas (+${userOpGas - eoaGas})`)
    console.log(
      JSON.stringify({
        bench: 'operator-userop',
        batch,
        eoaGas: Number(eoaGas),
        userOpGas: Number(userOpGas),
        ratio: Number(ratio.toFixed(3)),
      }),
    )
  } finally {
    await anvil.stop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
