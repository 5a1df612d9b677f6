import { decodeEventLog, encodePacked, type Hex, keccak256, parseEventLogs } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { collectorAbi, usdcAbi } from '../../src/chain/abis.js'
import { type AnvilHandle, startAnvil } from '../../src/chain/anvil.js'
import { createSigner, type SignerClient } from '../../src/chain/clients.js'
import { deployContracts, mintUsdc } from '../../src/chain/deployContracts.js'
import type { Deployment } from '../../src/chain/deployment.js'

// anvil's public test keys 0 (deployer, admin) and 1 (operator).
const KEY0: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const KEY1: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const PAYEE = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'

// The collector end to end from TypeScript: the owner signs a permit and terms off-chain with
// viem, the operator submits them and collects; events decode with the generated ABI.
describe('collector', () => {
  let anvil: AnvilHandle
  let deployer: SignerClient
  let operator: SignerClient
  let d: Deployment
  const owner = privateKeyToAccount(keccak256(encodePacked(['string'], ['collector-it-owner'])))
  const subscription = keccak256(encodePacked(['string'], ['collector-it-sub']))

  beforeAll(async () => {
    anvil = await startAnvil({ port: 0 })
    deployer = await createSigner(anvil.rpcUrl, KEY0)
    operator = await createSigner(anvil.rpcUrl, KEY1)
    d = await deployContracts(deployer, {
      payee: PAYEE,
      admin: deployer.account.address,
      operators: [operator.account.address],
    })
    await mintUsdc(deployer, d, { to: owner.address, amount: 50_000_000n })
  })
  afterAll(async () => anvil?.stop())

  test('authorize with terms, collect, read back', async () => {
    const read = { address: d.collector, abi: collectorAbi } as const
    expect(
      await deployer.readContract({
        ...read,
        functionName: 'isOperator',
        args: [operator.account.address],
      }),
    ).toBe(true)
    expect(await deployer.readContract({ ...read, functionName: 'PAYEE' })).toBe(PAYEE)

    const [name, version, nonce] = await Promise.all([
      deployer.readContract({ address: d.usdc, abi: usdcAbi, functionName: 'name' }),
      deployer.readContract({ address: d.usdc, abi: usdcAbi, functionName: 'version' }),
      deployer.readContract({
        address: d.usdc,
        abi: usdcAbi,
        functionName: 'nonces',
        args: [owner.address],
      }),
    ])
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const permitSignature = await owner.signTypedData({
      domain: { name, version, chainId: d.chainId, verifyingContract: d.usdc },
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
      message: { owner: owner.address, spender: d.collector, value: 20_000_000n, nonce, deadline },
    })
    const terms = { cap: 20_000_000n, limit: 5_000_000n, period: 30 * 86400, nonce: 1, deadline }
    const termsSignature = await owner.signTypedData({
      domain: {
        name: 'Tollgate Collector',
        version: '1',
        chainId: d.chainId,
        verifyingContract: d.collector,
      },
      types: {
        Terms: [
          { name: 'subscription', type: 'bytes32' },
          { name: 'cap', type: 'uint64' },
          { name: 'limit', type: 'uint64' },
          { name: 'period', type: 'uint32' },
          { name: 'nonce', type: 'uint32' },
          { name: 'deadline', type: 'uint256' },
        ],
      },
      primaryType: 'Terms',
      message: { subscription, ...terms },
    })
    const authHash = await operator.writeContract({
      ...read,
      functionName: 'authorizeWithTerms',
      args: [
        subscription,
        owner.address,
        { value: 20_000_000n, deadline, nonce },
        permitSignature,
        terms,
        termsSignature,
      ],
    })
    expect((await operator.waitForTransactionReceipt({ hash: authHash })).status).toBe('success')

    const hash = await operator.writeContract({
      ...read,
      functionName: 'collectBatch',
      args: [
        [
          { subscription, seq: 1, window: 0, amount: 3_000_000n },
          { subscription, seq: 2, window: 0, amount: 3_000_000n }, // over the 5 USDC window limit
        ],
      ],
    })
    const receipt = await operator.waitForTransactionReceipt({ hash })
    const events = parseEventLogs({ abi: collectorAbi, logs: receipt.logs })
    const collected = events.find((e) => e.eventName === 'Collected')
    const failed = events.find((e) => e.eventName === 'ChargeFailed')
    expect(collected?.args).toMatchObject({ subscription })
    const packed = (collected!.args as { packed: bigint }).packed
    const mask = (bits: bigint) => (1n << bits) - 1n
    expect({
      seq: packed & mask(32n),
      window: (packed >> 32n) & mask(32n),
      amount: (packed >> 64n) & mask(64n),
      inWindow: (packed >> 128n) & mask(64n),
      total: packed >> 192n,
    }).toEqual({ seq: 1n, window: 0n, amount: 3_000_000n, inWindow: 3_000_000n, total: 3_000_000n })
    expect(failed?.args).toMatchObject({ subscription, seq: 2, reason: 6 }) // FailureReason.Limit

    const s = await deployer.readContract({
      ...read,
      functionName: 'getSubscription',
      args: [subscription],
    })
    expect(s).toMatchObject({
      owner: owner.address,
      lastSeq: 1,
      limit: 5_000_000n,
      totalCollected: 3_000_000n,
      status: 1,
    })
    expect(
      await deployer.readContract({ ...read, functionName: 'headroom', args: [subscription] }),
    ).toBe(2_000_000n)
    expect(
      await deployer.readContract({
        address: d.usdc,
        abi: usdcAbi,
        functionName: 'balanceOf',
        args: [PAYEE],
      }),
    ).toBe(3_000_000n)
    // decodeEventLog works on raw logs too (what the indexer will do).
    const raw = receipt.logs.find((l) => l.address.toLowerCase() === d.collector.toLowerCase())!
    expect(decodeEventLog({ abi: collectorAbi, ...raw }).eventName).toBe('Collected')
  })
})
