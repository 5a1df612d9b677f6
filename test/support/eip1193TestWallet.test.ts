import {
  createWalletClient,
  custom,
  http,
  publicActions,
  recoverTypedDataAddress,
  verifyMessage,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { describe, expect, test } from 'vitest'
import type { SignerClient } from '../../src/chain/clients.js'
import { eip1193TestWallet } from './eip1193TestWallet.js'

// Nothing here reaches a node: the chain id comes from the client, signing is local.
const relayer = createWalletClient({
  account: privateKeyToAccount(`0x${'01'.repeat(32)}`),
  chain: foundry,
  transport: http('http://127.0.0.1:9'),
}).extend(publicActions) as unknown as SignerClient
const owner = privateKeyToAccount(`0x${'02'.repeat(32)}`)
const typed = {
  domain: { name: 'USD Coin', version: '2', chainId: 31337, verifyingContract: owner.address },
  types: {
    Permit: [
      { name: 'owner', type: 'address' },
      { name: 'value', type: 'uint256' },
    ],
  },
  primaryType: 'Permit',
  message: { owner: owner.address, value: 2_000_000n },
} as const

describe('eip1193TestWallet (EOA, no node)', () => {
  test('accounts, chain id, typed data and personal_sign as a page calls them', async () => {
    const prompts: string[] = []
    const wallet = eip1193TestWallet(relayer, {
      account: owner,
      onRequest: (m) => prompts.push(m),
    })
    const page = createWalletClient({ transport: custom(wallet) })
    expect(await page.requestAddresses()).toEqual([owner.address])
    expect(await page.getChainId()).toBe(31337)
    expect(await wallet.request({ method: 'net_version' })).toBe('31337')
    const signature = await page.signTypedData({ account: owner.address, ...typed })
    expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(owner.address)
    const signed = await page.signMessage({ account: owner.address, message: 'hello' })
    expect(
      await verifyMessage({ address: owner.address, message: 'hello', signature: signed }),
    ).toBe(true)
    expect(prompts).toEqual([
      'eth_requestAccounts',
      'eth_chainId',
      'net_version',
      'eth_signTypedData_v4',
      'personal_sign',
    ])
  })

  test('declined prompts, foreign addresses, other chains and unsupported methods get EIP-1193 codes', async () => {
    const wallet = eip1193TestWallet(relayer, {
      account: owner,
      onRequest: (m) => m !== 'personal_sign',
    })
    await expect(
      wallet.request({ method: 'personal_sign', params: ['0x00', owner.address] }),
    ).rejects.toMatchObject({ code: 4001 })
    await expect(
      wallet.request({
        method: 'eth_signTypedData_v4',
        params: [relayer.account.address, JSON.stringify({})],
      }),
    ).rejects.toMatchObject({ code: 4100 })
    await expect(
      wallet.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x2105' }] }),
    ).rejects.toMatchObject({ code: 4902 })
    expect(
      await wallet.request({
        method: 'wallet_switchEthereumChain',
        params: [{ chainId: '0x7a69' }],
      }),
    ).toBeNull()
    await expect(wallet.request({ method: 'eth_sign', params: [] })).rejects.toMatchObject({
      code: 4200,
    })
  })
})
