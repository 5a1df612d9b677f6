import { encodePaymentSignatureHeader } from '@x402/core/http'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { startApi } from '../api/server.js'
import { attachChain } from '../browser/browser.js'
import { describe, expect, test } from '../fixtures.js'
import { connectMcp } from '../mcp/client.js'
import { agentClient } from './helpers.js'

describe('x402 over MCP: a refused tool call carries the top-up the agent may pay', () => {
  test('BILLING_INACTIVE as a tool error has the x402 requirements; paid, the tool call goes through', async ({
    db,
    chain,
  }) => {
    // No signup credit: the org cannot pay until it is topped up.
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    attachChain(api, chain)
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'mcp agent', owner_address: privateKeyToAccount(generatePrivateKey()).address },
    })
    const key = org.json.api_key as string
    const mcp = await connectMcp(api.url, key)
    try {
      const refused = await mcp.call('save_issue', { title: 'A' })
      expect(refused.isError).toBe(true)
      expect(refused.body).toMatchObject({ code: 'BILLING_INACTIVE', reason: 'no_credit' })
      const offer = refused.body.x402
      expect(offer).toMatchObject({
        x402Version: 2,
        resource: { url: `${api.ctx.config.product.publicBaseUrl}/v1/usage/check` },
        accepts: [
          {
            scheme: 'exact',
            network: `eip155:${chain.deployment.chainId}`,
            asset: chain.deployment.usdc,
            amount: '1000000',
            payTo: chain.deployment.payee,
          },
        ],
      })
      expect(refused.text).toMatch(/\nOr top up over x402: .*PAYMENT-SIGNATURE\.$/)

      // The agent signs those very requirements with @x402/fetch's client and pays over HTTP.
      const wallet = privateKeyToAccount(generatePrivateKey())
      await mintUsdc(chain.deployer, chain.deployment, { to: wallet.address, amount: 1_000_000n })
      const payload = await agentClient(wallet).createPaymentPayload(offer)
      const paid = await api.call('POST', '/v1/usage/check', {
        key,
        body: { action: 'save_comment' },
        headers: { 'payment-signature': encodePaymentSignatureHeader(payload) },
      })
      expect(paid.status, JSON.stringify(paid.json)).toBe(200)
      expect(paid.json).toMatchObject({ allowed: true })
      expect(paid.headers.get('payment-response')).toBeTruthy()

      const served = await mcp.call('save_issue', { title: 'A' })
      expect(served.isError, served.text).toBe(false)
    } finally {
      await mcp.close()
      await api.stop()
    }
  }, 90_000)
})
