import { createWalletClient, custom, encodeFunctionData, type TypedDataDefinition } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { verifyOwnerSignature } from '../../src/aa/verifyOwnerSignature.js'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { describe, expect, test } from '../fixtures.js'
import { eip1193TestWallet } from '../support/eip1193TestWallet.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, newSmartOwner, usdcPermit } from './helpers.js'

const sink = '0x000000000000000000000000000000000000dEaD'

describe('eip1193TestWallet: a smart account or an EOA behind window.ethereum', () => {
  test('counterfactual Safe: accounts, chain, typed data (6492) and personal_sign verify; eth_sendTransaction deploys it and sends; declines and foreign addresses are refused', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const safe = await newSmartOwner(chain, rig, {
      kind: 'safe',
      deployed: false,
      usdc: 1_000_000n,
    })
    const prompts: string[] = []
    let decline = false
    const wallet = eip1193TestWallet(rig.relayer, {
      account: safe.account,
      onRequest: (method) => {
        prompts.push(method)
        return !decline
      },
    })
    const page = createWalletClient({ transport: custom(wallet) })
    const [address] = await page.requestAddresses()
    expect(address).toBe(safe.account.address)
    expect(await page.getChainId()).toBe(31337)

    // Through JSON-RPC exactly as a page sends it (bigints as strings, EIP712Domain included).
    const permit = await usdcPermit(chain, { owner: address!, spender: sink, value: 1n })
    const signature = await page.signTypedData({ account: address!, ...permit })
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: address!,
        typedData: permit as TypedDataDefinition,
        signature,
      }),
    ).toMatchObject({ valid: true, ownerKind: 'counterfactual' })
    const signed = await page.signMessage({ account: address!, message: 'Sign in to Tollgate' })
    expect(
      await rig.reader.verifyMessage({
        address: address!,
        message: 'Sign in to Tollgate',
        signature: signed,
      }),
    ).toBe(true)

    const hash = await wallet.request({
      method: 'eth_sendTransaction',
      params: [
        {
          from: address,
          to: chain.deployment.usdc,
          data: encodeFunctionData({
            abi: usdcAbi,
            functionName: 'transfer',
            args: [sink, 400_000n],
          }),
        },
      ],
    })
    const receipt = await chain.deployer.waitForTransactionReceipt({ hash: hash as `0x${string}` })
    expect(receipt.status).toBe('success')
    expect(await safe.account.isDeployed()).toBe(true)
    expect(await usdcBalance(chain, address!)).toBe(600_000n)

    decline = true
    await expect(page.signTypedData({ account: address!, ...permit })).rejects.toMatchObject({
      code: 4001,
    })
    decline = false
    await expect(
      wallet.request({ method: 'personal_sign', params: ['0x1234', sink] }),
    ).rejects.toMatchObject({ code: 4100 })
    expect(prompts).toEqual(
      expect.arrayContaining(['eth_requestAccounts', 'eth_signTypedData_v4', 'personal_sign']),
    )
  })

  test('EOA: signs typed data the token accepts and sends its own transaction', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const eoa = privateKeyToAccount(generatePrivateKey())
    await chain.testClient.setBalance({ address: eoa.address, value: 10n ** 18n })
    await mintUsdc(chain.deployer, chain.deployment, { to: eoa.address, amount: 50n })
    const wallet = eip1193TestWallet(rig.relayer, { account: eoa })
    const page = createWalletClient({ transport: custom(wallet) })
    const permit = await usdcPermit(chain, { owner: eoa.address, spender: sink, value: 1n })
    const signature = await page.signTypedData({ account: eoa.address, ...permit })
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: eoa.address,
        typedData: permit as TypedDataDefinition,
        signature,
      }),
    ).toMatchObject({ valid: true, ownerKind: 'eoa' })
    const hash = await wallet.request({
      method: 'eth_sendTransaction',
      params: [
        {
          from: eoa.address,
          to: chain.deployment.usdc,
          data: encodeFunctionData({ abi: usdcAbi, functionName: 'transfer', args: [sink, 50n] }),
        },
      ],
    })
    await chain.deployer.waitForTransactionReceipt({ hash: hash as `0x${string}` })
    expect(await usdcBalance(chain, eoa.address)).toBe(0n)
  })
})
