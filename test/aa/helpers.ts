import type { Address, Hex } from 'viem'
import { parseEther } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { deployAaStack } from '../../src/aa/deployAaStack.js'
import { deploySmartAccount } from '../../src/aa/deploySmartAccount.js'
import { type SmartAccountKind, toOwnerSmartAccount } from '../../src/aa/toOwnerSmartAccount.js'
import { usdcAbi } from '../../src/chain/abis.js'
import { createReader, type SignerClient } from '../../src/chain/clients.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { permitTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

/** A funded key of its own, so sends never race the deployer's or the operator's nonces. */
export async function fundedSigner(chain: TestChain): Promise<SignerClient> {
  const key = generatePrivateKey()
  await chain.testClient.setBalance({
    address: privateKeyToAccount(key).address,
    value: parseEther('100'),
  })
  return await chain.signerFor(key)
}

/**
 * The AA rig on the test chain: the ERC-4337 stack at its canonical addresses (idempotent, so
 * every test may ask), a reader for the accounts, and a relayer that pays their gas.
 */
export async function aaRig(chain: TestChain) {
  await deployAaStack(chain.deployer)
  return { reader: await createReader(chain.rpcUrl), relayer: await fundedSigner(chain) }
}

export type SmartOwner = {
  kind: SmartAccountKind
  account: SmartAccount
  ownerKey: Hex
}

/** A fresh smart account of `kind` with a fresh owner key; deployed on request, with USDC if asked. */
export async function newSmartOwner(
  chain: TestChain,
  rig: Awaited<ReturnType<typeof aaRig>>,
  p: { kind: SmartAccountKind; deployed: boolean; usdc?: bigint },
): Promise<SmartOwner> {
  const ownerKey = generatePrivateKey()
  const account = await toOwnerSmartAccount(rig.reader, {
    kind: p.kind,
    owner: privateKeyToAccount(ownerKey),
  })
  if (p.deployed) await deploySmartAccount(rig.relayer, { account })
  if (p.usdc)
    await mintUsdc(chain.deployer, chain.deployment, { to: account.address, amount: p.usdc })
  return { kind: p.kind, account, ownerKey }
}

/** The USDC permit typed data for `owner` → `spender`, read from the token (domain, nonce). */
export async function usdcPermit(
  chain: TestChain,
  p: { owner: Address; spender: Address; value: bigint; deadline?: bigint },
) {
  return await permitTypedData(chain.deployer, {
    token: chain.deployment.usdc,
    owner: p.owner,
    spender: p.spender,
    value: p.value,
    deadline: p.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600),
  })
}

export async function usdcBalance(chain: TestChain, who: Address) {
  return await chain.deployer.readContract({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    functionName: 'balanceOf',
    args: [who],
  })
}
