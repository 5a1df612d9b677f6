import { toSafeSmartAccount, toSimpleSmartAccount } from 'permissionless/accounts'
import type { Address, Chain, Client, JsonRpcAccount, LocalAccount, Transport } from 'viem'
import { type SmartAccount, toSimple7702SmartAccount } from 'viem/account-abstraction'
import type { privateKeyToAccount } from 'viem/accounts'
import { aaAddresses } from './aaAddresses.js'

/**
 * The smart-account kinds the rig builds, each a real account implementation:
 * - `safe`: Safe 1.4.1 with the Safe 4337 module 0.3.0 (EntryPoint v0.7), one owner, threshold 1;
 *   ERC-1271 through the module's fallback handler (signatures over a `SafeMessage`).
 * - `simple7702`: an EOA delegated with EIP-7702 to Simple7702Account v0.8; its code is the
 *   delegation designator, so USDC checks it with ERC-1271, which recovers the EOA's own key.
 * - `simple`: SimpleAccount v0.7. It has no ERC-1271 `isValidSignature`, so it can never sign a
 *   USDC permit: the rig keeps it to prove such a wallet is refused up front.
 */
export type SmartAccountKind = 'safe' | 'simple7702' | 'simple'

export type ToOwnerSmartAccountParameters = {
  kind: SmartAccountKind
  /** The key that owns (or, for `simple7702`, is) the account. */
  owner: LocalAccount
  /** Salt for the counterfactual address (Safe `saltNonce`, SimpleAccount `index`); default 0. */
  index?: bigint
  /** Use this address instead of computing it (an existing account; a stranger's key on it in tests). */
  address?: Address
}

/**
 * A permissionless / viem smart account of `kind` owned by `owner`, on the canonical contracts
 * `deployAaStack` puts on anvil (and that exist on Base). Counterfactual until deployed:
 * its `signTypedData` then returns an ERC-6492-wrapped signature carrying the factory call.
 *
 * @example
 * const safe = await toOwnerSmartAccount(client, { kind: 'safe', owner: privateKeyToAccount(key) })
 * const signature = await safe.signTypedData(permit) // 6492-wrapped until the Safe is deployed
 */
export async function toOwnerSmartAccount(
  client: Client<Transport, Chain, JsonRpcAccount | LocalAccount | undefined>,
  parameters: ToOwnerSmartAccountParameters,
): Promise<SmartAccount> {
  const { kind, owner, index = 0n, address } = parameters
  switch (kind) {
    case 'safe':
      return await toSafeSmartAccount({
        client,
        owners: [owner],
        version: '1.4.1',
        entryPoint: { address: aaAddresses.entryPoint07, version: '0.7' },
        saltNonce: index,
        address,
      })
    case 'simple':
      return await toSimpleSmartAccount({
        client,
        owner,
        entryPoint: { address: aaAddresses.entryPoint07, version: '0.7' },
        factoryAddress: aaAddresses.simpleAccountFactory07,
        index,
        address,
      })
    case 'simple7702':
      if (owner.type !== 'local' || !('signAuthorization' in owner) || !owner.signAuthorization)
        throw new Error('an EIP-7702 account needs a private-key owner (it signs the delegation)')
      return await toSimple7702SmartAccount({
        client,
        owner: owner as ReturnType<typeof privateKeyToAccount>,
        implementation: aaAddresses.simple7702Account08,
      })
  }
}
