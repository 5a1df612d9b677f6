import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { usdcAbi } from '../../src/chain/abis.js'
import { type AnvilHandle, startAnvil } from '../../src/chain/anvil.js'
import { createSigner, type SignerClient } from '../../src/chain/clients.js'
import { deployContracts, mintUsdc } from '../../src/chain/deployContracts.js'
import type { Deployment } from '../../src/chain/deployment.js'

// anvil's default key 0 (public test key).
const anvilKeys = ['0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'] as const

// Its own anvil rather than the shared fixture: this file tests the deployment itself.
describe('deployContracts', () => {
  let anvil: AnvilHandle
  let client: SignerClient
  let deployment: Deployment

  beforeAll(async () => {
    anvil = await startAnvil({ port: 0 })
    client = await createSigner(anvil.rpcUrl, anvilKeys[0])
    deployment = await deployContracts(client, {
      payee: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      admin: client.account.address,
      operators: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
    })
  })
  afterAll(async () => anvil?.stop())

  test('deploys real USDC behind its proxy, initialized', async () => {
    const read = (functionName: 'name' | 'symbol' | 'version' | 'currency') =>
      client.readContract({ address: deployment.usdc, abi: usdcAbi, functionName })
    expect(await read('name')).toBe('USD Coin')
    expect(await read('symbol')).toBe('USDC')
    expect(await read('version')).toBe('2')
    expect(await read('currency')).toBe('USD')
    expect(deployment.chainId).toBe(31337)
    expect(await client.getCode({ address: deployment.collector })).toMatch(/^0x[0-9a-f]{100,}/)
    expect(await client.getCode({ address: deployment.validator })).toMatch(/^0x[0-9a-f]{100,}/)
    expect(deployment.blocks.usdc).toBeGreaterThan(0)
  })

  test('mintUsdc mints to an address', async () => {
    const to = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
    await mintUsdc(client, deployment, { to, amount: 5_000_000n })
    await mintUsdc(client, deployment, { to, amount: 1n })
    const balance = await client.readContract({
      address: deployment.usdc,
      abi: usdcAbi,
      functionName: 'balanceOf',
      args: [to],
    })
    expect(balance).toBe(5_000_001n)
  })
})
