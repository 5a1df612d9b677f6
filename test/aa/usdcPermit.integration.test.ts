import {
  type Address,
  type Hex,
  hashTypedData,
  hexToBigInt,
  numberToHex,
  parseErc6492Signature,
  parseSignature,
  recoverTypedDataAddress,
  serializeCompactSignature,
  serializeErc6492Signature,
  serializeSignature,
  signatureToCompactSignature,
} from 'viem'
import { entryPoint07Address, entryPoint08Address } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { verifyOwnerSignature } from '../../src/aa/verifyOwnerSignature.js'
import { signatureValidatorAbi, usdcAbi } from '../../src/chain/abis.js'
import type { SignerClient } from '../../src/chain/clients.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { aaAddresses } from '../support/aaAddresses.js'
import { deployAaStack } from '../support/deployAaStack.js'
import { deploySmartAccount } from '../support/deploySmartAccount.js'
import { toOwnerSmartAccount } from '../support/toOwnerSmartAccount.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, fundedSigner, newSmartOwner, usdcPermit } from './helpers.js'

/** Submits a permit to USDC's `permit(owner, spender, value, deadline, bytes)`, as anyone may. */
async function submitPermit(
  chain: TestChain,
  from: SignerClient,
  p: { owner: Address; spender: Address; value: bigint; deadline: bigint; signature: Hex },
) {
  const { request } = await from.simulateContract({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    functionName: 'permit',
    args: [p.owner, p.spender, p.value, p.deadline, p.signature],
  })
  const hash = await from.writeContract(request)
  return await from.waitForTransactionReceipt({ hash })
}

/** The spender pulls `amount` from `owner` with the allowance the permit set. */
async function pull(chain: TestChain, spender: SignerClient, owner: Address, amount: bigint) {
  const to = privateKeyToAccount(`0x${'77'.repeat(32)}`).address
  const hash = await spender.writeContract({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    functionName: 'transferFrom',
    args: [owner, to, amount],
  })
  expect((await spender.waitForTransactionReceipt({ hash })).status).toBe('success')
}

const sink = '0x000000000000000000000000000000000000dEaD'
const secp256k1Order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('the local ERC-4337 stack', () => {
  test('deployAaStack puts every contract at its canonical address, from npm bytecode; a second run deploys nothing', async ({
    chain,
  }) => {
    const first = await deployAaStack(chain.deployer)
    expect(first.addresses.entryPoint07).toBe(entryPoint07Address)
    expect(first.addresses.entryPoint08).toBe(entryPoint08Address)
    for (const [name, address] of Object.entries(aaAddresses)) {
      const code = await chain.deployer.getCode({ address })
      expect(code?.length ?? 0, name).toBeGreaterThan(2)
    }
    // Only Safe's singleton factory is planted (anvil ships Arachnid's deployer).
    expect(first.planted).toEqual([aaAddresses.safeSingletonFactory])
    const again = await deployAaStack(chain.deployer)
    expect(again).toMatchObject({ deployed: [], planted: [] })
  })
})

describe('smart-account owners sign USDC permits (EIP-2612 with bytes: ERC-1271)', () => {
  test('Safe, deployed: the token accepts its ERC-1271 signature, the spender pulls USDC out of the Safe; a non-owner key is refused off-chain and by the token', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const safe = await newSmartOwner(chain, rig, { kind: 'safe', deployed: true, usdc: 5_000_000n })
    const spender = await fundedSigner(chain)
    const permit = await usdcPermit(chain, {
      owner: safe.account.address,
      spender: spender.account.address,
      value: 3_000_000n,
    })

    // A stranger's key on the same Safe address: a well-formed Safe signature, but not an owner's.
    const stranger = await toOwnerSmartAccount(rig.reader, {
      kind: 'safe',
      owner: privateKeyToAccount(`0x${'42'.repeat(32)}`),
      address: safe.account.address,
    })
    const forged = await stranger.signTypedData(permit)
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: safe.account.address,
        typedData: permit,
        signature: forged,
      }),
    ).toMatchObject({ valid: false, ownerKind: 'contract' })
    expect(
      await rig.reader.verifyTypedData({
        address: safe.account.address,
        ...permit,
        signature: forged,
      }),
    ).toBe(false)
    await expect(
      submitPermit(chain, rig.relayer, {
        owner: safe.account.address,
        spender: spender.account.address,
        value: 3_000_000n,
        deadline: permit.message.deadline,
        signature: forged,
      }),
    ).rejects.toThrow(/invalid signature/)

    const signature = await safe.account.signTypedData(permit)
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: safe.account.address,
        typedData: permit,
        signature,
      }),
    ).toMatchObject({
      valid: true,
      ownerKind: 'contract',
      deployment: null,
      tokenSignature: signature,
    })
    await submitPermit(chain, rig.relayer, {
      owner: safe.account.address,
      spender: spender.account.address,
      value: 3_000_000n,
      deadline: permit.message.deadline,
      signature,
    })
    await pull(chain, spender, safe.account.address, 2_000_000n)
    expect(await usdcBalance(chain, safe.account.address)).toBe(3_000_000n)
  })

  test('Safe, counterfactual: ERC-6492 verifies off-chain with nothing deployed; the token refuses the wrapper; the unprivileged validator deploys the Safe, then the token takes the inner signature', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const safe = await newSmartOwner(chain, rig, {
      kind: 'safe',
      deployed: false,
      usdc: 4_000_000n,
    })
    const owner = safe.account.address
    const spender = await fundedSigner(chain)
    const permit = await usdcPermit(chain, {
      owner,
      spender: spender.account.address,
      value: 4_000_000n,
    })
    const signature = await safe.account.signTypedData(permit)

    const checked = await verifyOwnerSignature(rig.reader, { owner, typedData: permit, signature })
    expect(checked).toMatchObject({ valid: true, ownerKind: 'counterfactual' })
    expect(checked.deployment?.factory).toBe(aaAddresses.safeProxyFactory141)
    expect(await chain.deployer.getCode({ address: owner })).toBeUndefined()

    const args = {
      owner,
      spender: spender.account.address,
      value: 4_000_000n,
      deadline: permit.message.deadline,
    }
    // USDC has no ERC-6492: neither the wrapper nor the inner signature works before deployment.
    await expect(submitPermit(chain, rig.relayer, { ...args, signature })).rejects.toThrow(
      /invalid signature/,
    )
    await expect(
      submitPermit(chain, rig.relayer, { ...args, signature: checked.tokenSignature }),
    ).rejects.toThrow(/invalid signature/)

    // A stranger's signature wrapped with the owner's real factory call: the validator deploys
    // the owner's Safe (harmless) and still answers false.
    const strangerSafe = await toOwnerSmartAccount(rig.reader, {
      kind: 'safe',
      owner: privateKeyToAccount(`0x${'43'.repeat(32)}`),
    })
    const strangerInner = parseErc6492Signature(await strangerSafe.signTypedData(permit)).signature
    const forged = serializeErc6492Signature({
      address: checked.deployment!.factory,
      data: checked.deployment!.factoryData,
      signature: strangerInner,
    })
    expect(
      await verifyOwnerSignature(rig.reader, { owner, typedData: permit, signature: forged }),
    ).toMatchObject({ valid: false, ownerKind: 'counterfactual' })

    // The deployment goes through the collector's unprivileged 6492 validator (anyone may call it).
    const digest = hashTypedData(permit)
    const { result } = await rig.relayer.simulateContract({
      address: chain.deployment.validator,
      abi: signatureValidatorAbi,
      functionName: 'isValidSig',
      args: [owner, digest, signature],
    })
    expect(result).toBe(true)
    // Explicit gas: the validator swallows a failed factory call and answers false, so an
    // estimate may starve the deployment and still "succeed" (the collector reverts instead).
    const hash = await rig.relayer.writeContract({
      address: chain.deployment.validator,
      abi: signatureValidatorAbi,
      functionName: 'isValidSig',
      args: [owner, digest, signature],
      gas: 1_000_000n,
    })
    await rig.relayer.waitForTransactionReceipt({ hash })
    expect(await safe.account.isDeployed()).toBe(true)

    // Deployed now: still 6492-wrapped, the stranger's is refused, the owner's inner one is taken.
    expect(
      await verifyOwnerSignature(rig.reader, { owner, typedData: permit, signature: forged }),
    ).toMatchObject({ valid: false, ownerKind: 'contract' })
    await expect(
      submitPermit(chain, rig.relayer, { ...args, signature: strangerInner }),
    ).rejects.toThrow(/invalid signature/)
    await submitPermit(chain, rig.relayer, { ...args, signature: checked.tokenSignature })
    await pull(chain, spender, owner, 4_000_000n)
    expect(await usdcBalance(chain, owner)).toBe(0n)
  })

  test('EIP-7702 (Simple7702Account): ECDSA before the delegation, ERC-1271 after it; a stranger is refused', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const eoa = await newSmartOwner(chain, rig, {
      kind: 'simple7702',
      deployed: false,
      usdc: 3_000_000n,
    })
    const owner = eoa.account.address
    const spender = await fundedSigner(chain)
    const first = await usdcPermit(chain, {
      owner,
      spender: spender.account.address,
      value: 1_000_000n,
    })
    const plain = await eoa.account.signTypedData(first)
    expect(
      await verifyOwnerSignature(rig.reader, { owner, typedData: first, signature: plain }),
    ).toMatchObject({ valid: true, ownerKind: 'eoa' })
    await submitPermit(chain, rig.relayer, {
      owner,
      spender: spender.account.address,
      value: 1_000_000n,
      deadline: first.message.deadline,
      signature: plain,
    })

    await deploySmartAccount(rig.relayer, { account: eoa.account })
    const code = await chain.deployer.getCode({ address: owner })
    expect(code?.toLowerCase()).toBe(
      `0xef0100${aaAddresses.simple7702Account08.slice(2).toLowerCase()}`,
    )

    const second = await usdcPermit(chain, {
      owner,
      spender: spender.account.address,
      value: 2_500_000n,
    })
    const stranger = privateKeyToAccount(`0x${'44'.repeat(32)}`)
    const forged = await stranger.signTypedData(second)
    expect(
      await verifyOwnerSignature(rig.reader, { owner, typedData: second, signature: forged }),
    ).toMatchObject({ valid: false, ownerKind: 'eip7702' })
    const args = {
      owner,
      spender: spender.account.address,
      value: 2_500_000n,
      deadline: second.message.deadline,
    }
    await expect(submitPermit(chain, rig.relayer, { ...args, signature: forged })).rejects.toThrow(
      /invalid signature/,
    )
    const signature = await eoa.account.signTypedData(second)
    expect(
      await verifyOwnerSignature(rig.reader, { owner, typedData: second, signature }),
    ).toMatchObject({ valid: true, ownerKind: 'eip7702' })
    await submitPermit(chain, rig.relayer, { ...args, signature })
    await pull(chain, spender, owner, 2_500_000n)
    expect(await usdcBalance(chain, owner)).toBe(500_000n)
  })

  test('SimpleAccount v0.7 has no ERC-1271: permissionless will not sign for it, and its owner’s key signing for it is refused off-chain and by the token', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    for (const deployed of [false, true]) {
      const simple = await newSmartOwner(chain, rig, { kind: 'simple', deployed })
      const owner = simple.account.address
      const spender = rig.relayer.account.address
      const permit = await usdcPermit(chain, { owner, spender, value: 1n })
      await expect(simple.account.signTypedData(permit)).rejects.toThrow(/1271/)
      const signature = await privateKeyToAccount(simple.ownerKey).signTypedData(permit)
      expect(
        await verifyOwnerSignature(rig.reader, { owner, typedData: permit, signature }),
      ).toMatchObject({ valid: false, ownerKind: deployed ? 'contract' : 'eoa' })
      await expect(
        submitPermit(chain, rig.relayer, {
          owner,
          spender,
          value: 1n,
          deadline: permit.message.deadline,
          signature,
        }),
      ).rejects.toThrow(/invalid signature/)
    }
  })

  test('EOA owner: the token’s ECDSA rules (65 bytes, low s, v 27/28) are applied off-chain, where plain ecrecover would accept what USDC refuses', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const eoa = privateKeyToAccount(`0x${'61'.repeat(32)}`)
    const permit = await usdcPermit(chain, { owner: eoa.address, spender: sink, value: 1n })
    const signature = await eoa.signTypedData(permit)
    const ok = await verifyOwnerSignature(rig.reader, {
      owner: eoa.address,
      typedData: permit,
      signature,
    })
    expect(ok).toMatchObject({ valid: true, ownerKind: 'eoa' })

    // The same signature with s flipped to the upper half (and v flipped): ecrecover still
    // yields the owner, USDC does not.
    const { r, s, yParity } = parseSignature(signature)
    const highS = serializeSignature({
      r,
      s: numberToHex(secp256k1Order - hexToBigInt(s), { size: 32 }),
      v: yParity === 0 ? 28n : 27n,
    })
    expect(await recoverTypedDataAddress({ ...permit, signature: highS })).toBe(eoa.address)
    // viem's universal verification accepts it too (why verifyOwnerSignature applies USDC's rules).
    expect(
      await rig.reader.verifyTypedData({ address: eoa.address, ...permit, signature: highS }),
    ).toBe(true)
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: eoa.address,
        typedData: permit,
        signature: highS,
      }),
    ).toMatchObject({ valid: false, ownerKind: 'eoa' })
    await expect(
      submitPermit(chain, rig.relayer, {
        owner: eoa.address,
        spender: sink,
        value: 1n,
        deadline: permit.message.deadline,
        signature: highS,
      }),
    ).rejects.toThrow(/invalid signature|ECRecover/)
    // EIP-2098 compact (64 bytes): recoverable, refused by the token's length check.
    const compact = serializeCompactSignature(
      signatureToCompactSignature(parseSignature(signature)),
    )
    expect(
      await verifyOwnerSignature(rig.reader, {
        owner: eoa.address,
        typedData: permit,
        signature: compact,
      }),
    ).toMatchObject({ valid: false })
  })
})
