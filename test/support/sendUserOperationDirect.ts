import { type Address, BaseError, type Hex, parseEventLogs } from 'viem'
import {
  entryPoint07Abi,
  type SmartAccount,
  toPackedUserOperation,
  type UserOperation,
} from 'viem/account-abstraction'
import type { SignerClient } from '../../src/chain/clients.js'

export type SendUserOperationDirectParameters = {
  account: SmartAccount
  calls: readonly { to: Address; data?: Hex | undefined; value?: bigint | undefined }[]
  /** Gas limits; generous defaults that cover a Safe deployment in the same operation. */
  gas?: { verification?: bigint; call?: bigint; preVerification?: bigint }
}

export type SendUserOperationDirectReturnType = {
  /** The `handleOps` transaction. */
  hash: Hex
  userOpHash: Hex
  /** Gas the whole transaction used. */
  gasUsed: bigint
}

/** Raised when the EntryPoint ran the operation but the account's call reverted. */
export class UserOperationRevertedError extends BaseError {
  override name = 'UserOperationRevertedError'
  constructor(userOpHash: Hex, reason: Hex | undefined) {
    super(`user operation ${userOpHash} reverted${reason ? ` (${reason})` : ''}`)
  }
}

/**
 * Runs `calls` from a smart account as a real ERC-4337 user operation, with `relayer` as its own
 * bundler: it prefunds the account's EntryPoint deposit, has the account sign the operation, and
 * calls `EntryPoint.handleOps` itself. The EntryPoint deploys a counterfactual account from the
 * operation's initCode, validates the signature through the account, then executes — exactly the
 * on-chain path a bundler drives, without the bundler's off-chain simulation rules (a test rig
 * against anvil needs no mempool; `@pimlico/alto` is the choice when those rules matter).
 *
 * @example
 * await sendUserOperationDirect(relayer, { account: safe, calls: [{ to: usdc, data: approveData }] })
 */
export async function sendUserOperationDirect(
  relayer: SignerClient,
  parameters: SendUserOperationDirectParameters,
): Promise<SendUserOperationDirectReturnType> {
  const { account, calls } = parameters
  const entryPoint = account.entryPoint
  // v0.7 and v0.8 share handleOps, the packed layout, the deposit API and the events.
  const abi = entryPoint07Abi
  const [{ factory, factoryData }, nonce, callData, fees] = await Promise.all([
    account.getFactoryArgs(),
    account.getNonce(),
    account.encodeCalls(
      calls.map((c) => ({ to: c.to, data: c.data ?? '0x', value: c.value ?? 0n })),
    ),
    relayer.estimateFeesPerGas(),
  ])
  if (factory === '0x7702' && !(await account.isDeployed()))
    throw new Error('delegate the EIP-7702 account first (deploySmartAccount)')
  const userOperation: UserOperation<'0.7'> = {
    sender: account.address,
    nonce,
    ...(factory && factory !== '0x7702' ? { factory, factoryData } : {}),
    callData,
    callGasLimit: parameters.gas?.call ?? 1_000_000n,
    verificationGasLimit: parameters.gas?.verification ?? 1_500_000n,
    preVerificationGas: parameters.gas?.preVerification ?? 100_000n,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    signature: '0x',
  }
  userOperation.signature = await account.signUserOperation(userOperation)

  // The relayer pays: it tops the account's deposit up to the EntryPoint's required prefund, so
  // the account needs no ETH of its own (what a paymaster or a sponsoring bundler would do).
  const required =
    (userOperation.callGasLimit +
      userOperation.verificationGasLimit +
      userOperation.preVerificationGas) *
    userOperation.maxFeePerGas
  const deposit = await relayer.readContract({
    address: entryPoint.address,
    abi,
    functionName: 'balanceOf',
    args: [account.address],
  })
  if (deposit < required) {
    const hash = await relayer.writeContract({
      address: entryPoint.address,
      abi,
      functionName: 'depositTo',
      args: [account.address],
      value: required - deposit,
    })
    await relayer.waitForTransactionReceipt({ hash })
  }
  const hash = await relayer.writeContract({
    address: entryPoint.address,
    abi,
    functionName: 'handleOps',
    args: [[toPackedUserOperation(userOperation)], relayer.account.address],
    // The EntryPoint checks gasleft() against the operation's limits; leave room above them.
    gas: required / userOperation.maxFeePerGas + 500_000n,
  })
  const receipt = await relayer.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new Error(`handleOps ${hash} reverted`)
  const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'UserOperationEvent' })
  if (!event) throw new Error(`handleOps ${hash} ran no user operation`)
  if (!event.args.success) {
    const [revert] = parseEventLogs({
      abi,
      logs: receipt.logs,
      eventName: 'UserOperationRevertReason',
    })
    throw new UserOperationRevertedError(event.args.userOpHash, revert?.args.revertReason)
  }
  return { hash, userOpHash: event.args.userOpHash, gasUsed: receipt.gasUsed }
}
