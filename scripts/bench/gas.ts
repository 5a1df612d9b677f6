// Gas of whole transactions on anvil against real USDC (FiatToken v2.2 behind its proxy), all in
// one run: a bare USDC.transferFrom transaction (the baseline), a single-collect transaction, and
// batches of 50 collects from 50 different owners — cold (each subscription's first charge) and
// warm (its second) — and an x402 top-up: the agent's EIP-3009 transferWithAuthorization sent
// through the operator, as src/x402/settlePayment.ts sends it. Every input is fixed (keys, ids, amounts), so the figures are deterministic.
//
//   npm run bench:gas              print the figures; last line `bench:gas single_ratio=<x> batch50_ratio=<y>`
//   npm run bench:gas -- --check   also fail (exit 1) on a regression over 2% vs contracts/gas/figures.json
//   npm run bench:gas -- --write   update contracts/gas/figures.json
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type Address,
  createWalletClient,
  encodePacked,
  type Hex,
  http,
  keccak256,
  parseSignature,
  publicActions,
  serializeSignature,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { collectorAbi, collectorBytecode, usdcAbi } from '../../src/chain/abis.js'
import { startAnvil } from '../../src/chain/anvil.js'
import type { SignerClient } from '../../src/chain/clients.js'
import { deployContracts, mintUsdc } from '../../src/chain/deployContracts.js'
import { termsTypedData } from '../../src/subscriptions/typedData.js'

const root = resolve(import.meta.dirname, '../..')
const figuresFile = resolve(root, 'contracts/gas/figures.json')
const TOLERANCE = 0.02
const BATCH = 50
const AMOUNT = 1_234_567n // $1.234567: a realistic charge with non-zero bytes
const anvilKeys: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
]

type Figures = {
  transferFromBaseline: number
  singleCollect: number
  batch50Cold: number
  batch50Warm: number
  /** An x402 top-up: `transferWithAuthorization` of the agent's signed authorization, by the operator. */
  x402TopUp: number
}

const signer = (rpcUrl: string, key: Hex) =>
  createWalletClient({
    account: privateKeyToAccount(key),
    chain: foundry,
    transport: http(rpcUrl),
    pollingInterval: 50,
  }).extend(publicActions) as unknown as SignerClient

async function gasOf(client: SignerClient, hash: Hex): Promise<number> {
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new Error(`bench transaction ${hash} reverted`)
  return Number(receipt.gasUsed)
}

/** The bench measures the committed bindings; forge's fresh build must match them. */
function staleBindings(): boolean {
  const artifact = resolve(root, 'out/Collector.sol/Collector.json')
  if (!existsSync(artifact)) return false
  const built = (JSON.parse(readFileSync(artifact, 'utf8')) as { bytecode: { object: string } })
    .bytecode.object
  return built.toLowerCase() !== collectorBytecode.toLowerCase()
}

async function main() {
  if (staleBindings()) {
    console.error(
      'src/chain/abis.ts is stale against out/ (forge build): run `npm run build:contracts`',
    )
    if (process.argv.includes('--check')) process.exit(1)
  }
  const mode = process.argv.includes('--write')
    ? 'write'
    : process.argv.includes('--check')
      ? 'check'
      : 'print'
  const anvil = await startAnvil()
  try {
    const deployer = signer(anvil.rpcUrl, anvilKeys[0]!)
    const operator = signer(anvil.rpcUrl, anvilKeys[1]!)
    const payee = privateKeyToAccount(anvilKeys[2]!).address
    const spender = signer(anvil.rpcUrl, anvilKeys[3]!)
    const d = await deployContracts(deployer, {
      payee,
      admin: deployer.account.address,
      operators: [operator.account.address],
    })
    const usdc = d.usdc
    const collector = d.collector
    const [name, version] = await Promise.all([
      deployer.readContract({ address: usdc, abi: usdcAbi, functionName: 'name' }),
      deployer.readContract({ address: usdc, abi: usdcAbi, functionName: 'version' }),
    ])
    // The payee already holds USDC, as it does after the first charge ever.
    await mintUsdc(deployer, d, { to: payee, amount: 1_000_000n })

    const owners = Array.from({ length: BATCH + 3 }, (_, i) =>
      privateKeyToAccount(
        keccak256(encodePacked(['string', 'uint256'], ['tollgate-bench-owner', BigInt(i)])),
      ),
    )
    const permit = async (owner: (typeof owners)[number], to: Address, value: bigint) => {
      const nonce = await deployer.readContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'nonces',
        args: [owner.address],
      })
      const deadline = 2n ** 255n
      const signature = await owner.signTypedData({
        domain: { name, version, chainId: 31337, verifyingContract: usdc },
        types: {
          Permit: [
            { name: 'owner', type: 'address' },
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
        },
        primaryType: 'Permit',
        message: { owner: owner.address, spender: to, value, nonce, deadline },
      })
      return { value, deadline, nonce, signature: serializeSignature(parseSignature(signature)) }
    }
    const subscriptionId = (i: number) =>
      keccak256(encodePacked(['string', 'uint256'], ['tollgate-bench-sub', BigInt(i)]))

    for (const owner of owners)
      await mintUsdc(deployer, d, { to: owner.address, amount: 1_000_000_000n })

    // Baseline: a bare transferFrom by an approved spender, owner and payee balances non-zero before and after.
    const baseOwner = owners[BATCH + 1]!
    const p0 = await permit(baseOwner, spender.account.address, 100_000_000n)
    await gasOf(
      deployer,
      await deployer.writeContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'permit',
        args: [baseOwner.address, spender.account.address, p0.value, p0.deadline, p0.signature],
      }),
    )
    const transferFromBaseline = await gasOf(
      spender,
      await spender.writeContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'transferFrom',
        args: [baseOwner.address, payee, AMOUNT],
      }),
    )

    // Authorize every subscription (not measured).
    for (let i = 0; i <= BATCH; i++) {
      const owner = owners[i]!
      const p = await permit(owner, collector, 100_000_000n)
      // Opening takes the owner's terms too: the lifetime cap, no limit, 30-day windows.
      const terms = {
        cap: 100_000_000n,
        limit: 0n,
        period: 30 * 86_400,
        nonce: 1,
        deadline: p.deadline,
      }
      const termsSignature = await owner.signTypedData(
        termsTypedData({
          chainId: 31337,
          collector,
          message: { subscription: subscriptionId(i), ...terms },
        }),
      )
      await gasOf(
        operator,
        await operator.writeContract({
          address: collector,
          abi: collectorAbi,
          functionName: 'authorizeWithTerms',
          args: [
            subscriptionId(i),
            owner.address,
            { value: p.value, deadline: p.deadline, nonce: p.nonce },
            p.signature,
            terms,
            termsSignature,
          ],
        }),
      )
    }

    const charge = (i: number, seq: number) => ({
      subscription: subscriptionId(i),
      seq,
      window: 0,
      amount: AMOUNT,
    })
    const singleCollect = await gasOf(
      operator,
      await operator.writeContract({
        address: collector,
        abi: collectorAbi,
        functionName: 'collect',
        args: [charge(BATCH, 1)],
      }),
    )
    const batch = async (seq: number) => {
      const charges = Array.from({ length: BATCH }, (_, i) => charge(i, seq))
      const hash = await operator.writeContract({
        address: collector,
        abi: collectorAbi,
        functionName: 'collectBatch',
        args: [charges],
        gas: 10_000_000n,
      })
      const receipt = await operator.waitForTransactionReceipt({ hash })
      const collected = receipt.logs.filter(
        (l) => l.address.toLowerCase() === collector.toLowerCase(),
      ).length
      if (receipt.status !== 'success' || collected !== BATCH)
        throw new Error(`batch ${seq} collected ${collected}/${BATCH}`)
      return Number(receipt.gasUsed)
    }
    const batch50Cold = await batch(1)
    const batch50Warm = await batch(2)

    // An x402 top-up of AMOUNT from an agent (never charged before) to the payee, as settled.
    const agent = owners[BATCH + 2]!
    const authorization = {
      from: agent.address,
      to: payee,
      value: AMOUNT,
      validAfter: 0n,
      validBefore: 2n ** 255n,
      nonce: keccak256(encodePacked(['string'], ['tollgate-bench-x402'])),
    }
    const authorizationSignature = await agent.signTypedData({
      domain: { name, version, chainId: 31337, verifyingContract: usdc },
      types: {
        TransferWithAuthorization: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'validAfter', type: 'uint256' },
          { name: 'validBefore', type: 'uint256' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'TransferWithAuthorization',
      message: authorization,
    })
    const x402TopUp = await gasOf(
      operator,
      await operator.writeContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'transferWithAuthorization',
        args: [
          authorization.from,
          authorization.to,
          authorization.value,
          authorization.validAfter,
          authorization.validBefore,
          authorization.nonce,
          authorizationSignature,
        ],
      }),
    )

    const figures: Figures = {
      transferFromBaseline,
      singleCollect,
      batch50Cold,
      batch50Warm,
      x402TopUp,
    }
    report(figures, mode)
  } finally {
    await anvil.stop()
  }
}

function report(figures: Figures, mode: 'write' | 'check' | 'print') {
  const base = figures.transferFromBaseline
  const ratio = (x: number) => (x / base).toFixed(3)
  const perCold = figures.batch50Cold / BATCH
  const perWarm = figures.batch50Warm / BATCH
  console.log(`bare USDC.transferFrom tx (baseline)  ${base}`)
  console.log(
    `single collect tx                      ${figures.singleCollect}  (${ratio(figures.singleCollect)}x, target <= 1.3x)`,
  )
  console.log(
    `batch of ${BATCH}, cold (first charges)     ${figures.batch50Cold}  = ${perCold.toFixed(0)}/charge (${ratio(perCold)}x, target <= 0.75x)`,
  )
  console.log(
    `batch of ${BATCH}, warm (second charges)    ${figures.batch50Warm}  = ${perWarm.toFixed(0)}/charge (${ratio(perWarm)}x)`,
  )
  console.log(
    `x402 top-up (transferWithAuthorization) ${figures.x402TopUp}  (${ratio(figures.x402TopUp)}x)`,
  )

  let failed = false
  if (mode === 'write') {
    writeFileSync(figuresFile, `${JSON.stringify(figures, null, 2)}\n`)
    console.log(`wrote ${figuresFile}`)
  } else if (mode === 'check') {
    const kept = JSON.parse(readFileSync(figuresFile, 'utf8')) as Figures
    for (const key of Object.keys(kept) as (keyof Figures)[]) {
      const was = kept[key]
      const now = figures[key]
      if (was === undefined) continue
      const change = (now - was) / was
      const verdict = change > TOLERANCE ? 'REGRESSION' : 'ok'
      if (change > TOLERANCE) failed = true
      console.log(`check ${key}: ${was} -> ${now} (${(change * 100).toFixed(2)}%) ${verdict}`)
    }
  }
  if (figures.singleCollect / base > 1.3 || Math.max(perCold, perWarm) / base > 0.75) {
    console.log('target missed')
    if (mode === 'check') failed = true
  }
  console.log(
    `bench:gas single_ratio=${ratio(figures.singleCollect)} batch50_ratio=${ratio(Math.max(perCold, perWarm))}`,
  )
  if (failed) process.exitCode = 1
}

await main()
