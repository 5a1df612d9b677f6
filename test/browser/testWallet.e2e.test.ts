import { createServer } from 'node:http'
import { join } from 'node:path'
import { recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type AnvilHandle, startAnvil } from '../../src/chain/anvil.js'
import { anvilKeys } from '../../src/config/index.js'
import { injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

// The rig every browser test stands on: Debian Chromium with an injected EIP-1193 wallet
// that signs with anvil's keys. If this fails, the manage-page tests cannot be trusted.
let anvil: AnvilHandle
beforeAll(async () => {
  anvil = await startAnvil({ port: 0 })
})
afterAll(async () => anvil?.stop())

test('the injected wallet answers a page like a browser wallet does', async () => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html')
    res.end('<!doctype html><title>rig</title><h1>wallet rig</h1>')
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    const account = privateKeyToAccount(anvilKeys[2])
    const seen: string[] = []
    await injectTestWallet(page, { account, rpcUrl: anvil.rpcUrl, onRequest: (m) => seen.push(m) })
    await page.goto(`http://127.0.0.1:${port}/`)
    const typed = {
      domain: { name: 'Tollgate', version: '1', chainId: 31337 },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
        ],
        Hello: [{ name: 'amount', type: 'uint256' }],
      },
      primaryType: 'Hello',
      message: { amount: '7000' },
    }
    const result = await page.evaluate(async (data) => {
      const eth = (window as unknown as { ethereum: { request: (a: unknown) => Promise<unknown> } })
        .ethereum
      const [from] = (await eth.request({ method: 'eth_requestAccounts' })) as string[]
      const chainId = await eth.request({ method: 'eth_chainId' })
      const block = await eth.request({ method: 'eth_blockNumber' })
      const signature = await eth.request({
        method: 'eth_signTypedData_v4',
        params: [from, JSON.stringify(data)],
      })
      return { from, chainId, block, signature }
    }, typed)
    expect(result.from).toBe(account.address)
    expect(result.chainId).toBe('0x7a69')
    expect(result.block).toMatch(/^0x/)
    const { EIP712Domain: _, ...types } = typed.types
    const signer = await recoverTypedDataAddress({
      domain: typed.domain,
      types,
      primaryType: 'Hello',
      message: { amount: 7000n },
      signature: result.signature as `0x${string}`,
    })
    expect(signer).toBe(account.address)
    expect(seen).toEqual([
      'eth_requestAccounts',
      'eth_chainId',
      'eth_blockNumber',
      'eth_signTypedData_v4',
    ])
    await page.screenshot({ path: join(screenshotDir, 'wallet-rig.png') })
  } finally {
    await browser.close()
    server.close()
  }
})
