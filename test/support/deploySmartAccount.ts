import type { Hex, LocalAccount } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import type { SignerClient } from '../../src/chain/clients.js'

export type DeploySmartAccountParameters = { account: SmartAccount }

export type DeploySmartAccountReturnType = {
  /** The deployment transaction, or null when the account already had code. */
  hash: Hex | null
}

/**
 * Deploys a counterfactual smart account without a bundler: `relayer` (any funded EOA) calls the
 * account's factory with its own factory data — the same call an ERC-6492 wrapper or a user
 * operation's initCode would make. For an EIP-7702 account it sends a type-4 transaction carrying
 * the owner's signed delegation to the account's implementation instead.
 *
 * @example
 * await deploySmartAccount(relayer, { account: safe })
 */
export async function deploySmartAccount(
  relayer: SignerClient,
  { account }: DeploySmartAccountParameters,
): Promise<DeploySmartAccountReturnType> {
  if (await account.isDeployed()) return { hash: null }
  const { factory, factoryData } = await account.getFactoryArgs()
  let hash: Hex
  if (factory === '0x7702') {
    const delegation = account.authorization as { account: LocalAccount; address: Hex } | undefined
    if (!delegation) throw new Error('an EIP-7702 account without its delegation')
    const authorization = await relayer.signAuthorization({
      account: delegation.account as Parameters<SignerClient['signAuthorization']>[0]['account'],
      contractAddress: delegation.address,
    })
    hash = await relayer.sendTransaction({
      authorizationList: [authorization],
      to: account.address,
      data: '0x',
    })
  } else {
    if (!factory || !factoryData) throw new Error(`${account.address} has no factory call`)
    hash = await relayer.sendTransaction({ to: factory, data: factoryData })
  }
  const receipt = await relayer.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !(await account.isDeployed()))
    throw new Error(`deploying ${account.address} (${hash}) left no code there`)
  return { hash }
}
