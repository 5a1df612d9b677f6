import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { createSmartAccountClient } from 'permissionless'
import { encodeFunctionData, http, parseEther } from 'viem'
import { entryPoint07Address, entryPoint08Address } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { usdcAbi } from '../../src/chain/abis.js'
import { freePort } from '../../src/chain/anvil.js'
import { describe, expect, test } from '../fixtures.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, newSmartOwner } from './helpers.js'

const sink = '0x000000000000000000000000000000000000dEaD'

/**
 * A real bundler (`@pimlico/alto` from npm, as permissionless's own test rig runs it) against the
 * test's anvil: its executor key is fresh and funded, so it never races the deployer's or the
 * operator's nonces; it deploys its simulation contracts itself (CREATE2), so it needs no
 * network. Started per test and stopped after it, so CI leaves no process behind.
 */
async function startAlto(rpcUrl: string, fund: (address: `0x${string}`) => Promise<void>) {
  const executor = generatePrivateKey()
  const utility = generatePrivateKey()
  await fund(privateKeyToAccount(executor).address)
  await fund(privateKeyToAccount(utility).address)
  const port = await freePort()
  // The package exports no subpaths, so its CLI is found where npm installed it.
  const cli = resolve(import.meta.dirname, '../../node_modules/@pimlico/alto/esm/cli/alto.js')
  const child: ChildProcess = spawn(
    process.execPath,
    [
      cli,
      '--rpc-url',
      rpcUrl,
      '--entrypoints',
      `${entryPoint07Address},${entryPoint08Address}`,
      '--executor-private-keys',
      executor,
      '--utility-private-key',
      utility,
      '--safe-mode',
      'false',
      '--deploy-simulations-contract',
      'true',
      '--port',
      String(port),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (b) => {
    stderr += b
  })
  const url = `http://127.0.0.1:${port}`
  // Alto is a large program: on two cores at load 20 it took over 30 s to answer.
  const deadline = Date.now() + 120_000
  for (;;) {
    const up = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_supportedEntryPoints' }),
    })
      .then((r) => r.ok)
      .catch(() => false)
    if (up) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill()
      throw new Error(`alto did not start: ${stderr.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, stop: () => child.kill() }
}

describe('user operations through a real bundler (alto from npm)', () => {
  test('counterfactual Safe: permissionless estimates, alto bundles, the first operation deploys the Safe and moves USDC', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const alto = await startAlto(chain.rpcUrl, (address) =>
      chain.testClient.setBalance({ address, value: parseEther('100') }),
    )
    try {
      const safe = await newSmartOwner(chain, rig, {
        kind: 'safe',
        deployed: false,
        usdc: 2_000_000n,
      })
      // The Safe pays its own prefund (no paymaster): it holds ETH before it exists.
      await chain.testClient.setBalance({ address: safe.account.address, value: parseEther('1') })
      const client = createSmartAccountClient({
        account: safe.account,
        chain: foundry,
        bundlerTransport: http(alto.url),
        userOperation: {
          // anvil's fees as the bundler reads them; alto refuses operations priced below them.
          estimateFeesPerGas: async () => {
            const fees = await rig.reader.estimateFeesPerGas()
            return {
              maxFeePerGas: fees.maxFeePerGas * 2n,
              maxPriorityFeePerGas: fees.maxPriorityFeePerGas * 2n,
            }
          },
        },
      })
      const hash = await client.sendUserOperation({
        calls: [
          {
            to: chain.deployment.usdc,
            data: encodeFunctionData({
              abi: usdcAbi,
              functionName: 'transfer',
              args: [sink, 500_000n],
            }),
          },
        ],
      })
      const receipt = await client.waitForUserOperationReceipt({ hash, timeout: 30_000 })
      expect(receipt.success).toBe(true)
      expect(receipt.entryPoint.toLowerCase()).toBe(entryPoint07Address.toLowerCase())
      expect(await safe.account.isDeployed()).toBe(true)
      expect(await usdcBalance(chain, safe.account.address)).toBe(1_500_000n)
    } finally {
      alto.stop()
    }
  }, 300_000)
})
