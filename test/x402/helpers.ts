import { randomBytes } from 'node:crypto'
import { encodePaymentSignatureHeader } from '@x402/core/http'
import type { PaymentPayload, PaymentRequired } from '@x402/core/types'
import { registerExactEvmScheme } from '@x402/evm/exact/client'
import { x402Client } from '@x402/fetch'
import { type Hex, toHex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { createReader } from '../../src/chain/clients.js'
import type { Db } from '../../src/db/client.js'
import type { X402Context } from '../../src/x402/context.js'
import type { TestChain } from '../fixtures.js'

/** The x402 door on the test chain: $1 top-ups, $1..$100 taken, our deployment's payee. */
export async function x402Context(
  db: Db,
  chain: TestChain,
  over: Partial<X402Context> = {},
): Promise<X402Context> {
  return {
    db,
    reader: await createReader(chain.rpcUrl),
    operator: chain.operator,
    chainId: chain.deployment.chainId,
    token: chain.deployment.usdc,
    payee: chain.deployment.payee,
    amounts: { topUp: 1_000_000n, min: 1_000_000n, max: 100_000_000n },
    settleTimeoutMs: 20_000,
    ...over,
  }
}

/** An agent's x402 client (the `@x402/fetch` one) for a wallet. */
export function agentClient(account: PrivateKeyAccount, paymentId?: string) {
  const client = new x402Client()
  registerExactEvmScheme(client, { signer: account })
  // The anvil token is not one of x402's known USDC deployments (Base's is): allow it.
  client.setSpendControls({ allowedAssets: true })
  if (paymentId)
    client.onBeforePaymentCreation(async ({ paymentRequired }) => {
      paymentRequired.extensions ??= {}
      ;(paymentRequired.extensions as Record<string, unknown>)['payment-identifier'] = {
        info: { id: paymentId },
      }
    })
  return client
}

/** What an agent would send: `@x402/fetch`'s payload for these requirements, as the header. */
export async function pay(
  account: PrivateKeyAccount,
  required: PaymentRequired,
  paymentId?: string,
) {
  const payload = await agentClient(account, paymentId).createPaymentPayload(required)
  return { payload, header: encodePaymentSignatureHeader(payload) }
}

/**
 * A payload signed by hand with chosen fields (a payee, a window, a value, a domain the client
 * would never pick), to see the door refuse what the token would.
 */
export async function signRaw(
  account: PrivateKeyAccount,
  required: PaymentRequired,
  p: {
    to?: `0x${string}`
    value?: bigint
    validAfter?: bigint
    validBefore?: bigint
    nonce?: Hex
    chainId?: number
    token?: `0x${string}`
    network?: string
  } = {},
): Promise<{ payload: PaymentPayload; header: string }> {
  const req = required.accepts[0]!
  const now = BigInt(Math.floor(Date.now() / 1000))
  const message = {
    from: account.address,
    to: p.to ?? (req.payTo as `0x${string}`),
    value: p.value ?? BigInt(req.amount),
    validAfter: p.validAfter ?? now - 600n,
    validBefore: p.validBefore ?? now + 300n,
    nonce: p.nonce ?? toHex(randomBytes(32)),
  }
  const token = p.token ?? (req.asset as `0x${string}`)
  const signature = await account.signTypedData({
    domain: {
      name: req.extra.name as string,
      version: req.extra.version as string,
      chainId: p.chainId ?? Number(req.network.split(':')[1]),
      verifyingContract: token,
    },
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
    message,
  })
  const payload: PaymentPayload = {
    x402Version: 2,
    resource: required.resource,
    accepted: {
      ...req,
      asset: token,
      payTo: message.to,
      amount: message.value.toString(),
      network: (p.network ?? req.network) as PaymentPayload['accepted']['network'],
    },
    payload: {
      signature,
      authorization: {
        from: message.from,
        to: message.to,
        value: message.value.toString(),
        validAfter: message.validAfter.toString(),
        validBefore: message.validBefore.toString(),
        nonce: message.nonce,
      },
    },
  }
  return { payload, header: encodePaymentSignatureHeader(payload) }
}
