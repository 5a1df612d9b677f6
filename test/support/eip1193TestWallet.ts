import {
  type Address,
  type Hex,
  isAddressEqual,
  isHex,
  type LocalAccount,
  stringToHex,
  type TypedDataDefinition,
  toHex,
} from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import type { SignerClient } from '../../src/chain/clients.js'
import { sendUserOperationDirect } from './sendUserOperationDirect.js'

/** An EIP-1193 error: `code` 4001 rejected by the user, 4100 unauthorized, 4200 unsupported, 4902 unknown chain. */
class ProviderRpcError extends Error {
  override name = 'ProviderRpcError'
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export type Eip1193RequestArguments = { method: string; params?: unknown }

export type Eip1193TestWalletParameters = {
  /** Who the wallet is: a private-key EOA, or a smart account from permissionless / viem. */
  account: LocalAccount | SmartAccount
  /**
   * Seen before every request is answered (assert on prompts); returning `false` for a prompt
   * (connect, sign, send) has the user decline it (4001).
   */
  onRequest?: (method: string, params: unknown) => unknown
}

export type Eip1193TestWalletReturnType = {
  address: Address
  request: (args: Eip1193RequestArguments) => Promise<unknown>
}

/** Methods that pop a prompt in a real wallet, which a test may have the user decline. */
const prompts = new Set([
  'eth_requestAccounts',
  'eth_signTypedData_v4',
  'personal_sign',
  'eth_sendTransaction',
])

/**
 * A wallet for tests behind the EIP-1193 `request` interface, as a page sees an injected
 * `window.ethereum`: accounts and chain id, `eth_signTypedData_v4` and `personal_sign` signed
 * by `account` (a smart account answers as real smart wallets do: ERC-1271 signatures, ERC-6492
 * wrapped while counterfactual), `eth_sendTransaction` sent by the EOA itself or, for a smart
 * account, as a user operation through the EntryPoint with `client`'s account paying
 * (`sendUserOperationDirect`). Everything else is forwarded to `client`'s node.
 *
 * @example
 * const wallet = eip1193TestWallet(relayer, { account: safe })
 * const walletClient = createWalletClient({ transport: custom(wallet) })
 */
export function eip1193TestWallet(
  client: SignerClient,
  parameters: Eip1193TestWalletParameters,
): Eip1193TestWalletReturnType {
  const { account, onRequest } = parameters
  const chainId = client.chain.id
  const isSmart = account.type === 'smart'
  const mustBeMe = (address: unknown) => {
    if (typeof address !== 'string' || !isAddressEqual(address as Address, account.address))
      throw new ProviderRpcError(4100, `this wallet is ${account.address}, not ${String(address)}`)
  }

  const request = async ({ method, params }: Eip1193RequestArguments): Promise<unknown> => {
    const list = Array.isArray(params) ? (params as unknown[]) : []
    if (onRequest?.(method, params) === false && prompts.has(method))
      throw new ProviderRpcError(4001, 'User rejected the request.')
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [account.address]
      case 'eth_chainId':
        return toHex(chainId)
      case 'net_version':
        return String(chainId)
      case 'wallet_switchEthereumChain': {
        const wanted = Number((list[0] as { chainId?: string } | undefined)?.chainId)
        if (wanted !== chainId) throw new ProviderRpcError(4902, `unknown chain ${wanted}`)
        return null
      }
      case 'eth_signTypedData_v4': {
        mustBeMe(list[0])
        const raw = typeof list[1] === 'string' ? JSON.parse(list[1]) : list[1]
        const { types, domain, primaryType, message } = raw as TypedDataDefinition & {
          types: Record<string, unknown>
        }
        // The domain's own type is derived from the domain by the signer; drop the page's copy.
        const { EIP712Domain: _, ...rest } = types
        return await account.signTypedData({
          domain,
          types: rest,
          primaryType,
          message,
        } as TypedDataDefinition)
      }
      case 'personal_sign': {
        mustBeMe(list[1])
        const data = list[0] as string
        return await account.signMessage({
          message: { raw: isHex(data) ? data : stringToHex(data) },
        })
      }
      case 'eth_sendTransaction': {
        const tx = list[0] as { from?: Address; to: Address; data?: Hex; value?: Hex }
        if (tx.from) mustBeMe(tx.from)
        const value = tx.value ? BigInt(tx.value) : 0n
        if (isSmart) {
          const { hash } = await sendUserOperationDirect(client, {
            account: account as SmartAccount,
            calls: [{ to: tx.to, data: tx.data ?? '0x', value }],
          })
          return hash
        }
        return await client.sendTransaction({
          account: account as LocalAccount,
          to: tx.to,
          data: tx.data,
          value,
        })
      }
      case 'eth_sign':
      case 'eth_signTransaction':
      case 'eth_sendRawTransaction':
        throw new ProviderRpcError(4200, `${method} is not supported by the test wallet`)
      default:
        return await client.request({ method, params } as never)
    }
  }
  return { address: account.address, request }
}
