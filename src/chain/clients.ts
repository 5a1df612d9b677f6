import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  http,
  nonceManager,
  type PublicActions,
  publicActions,
  type Transport,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { base, baseSepolia, foundry } from 'viem/chains'

/** The chains Tollgate runs on: Base, Base Sepolia, and a local anvil. */
function chainFor(chainId: number): Chain {
  if (chainId === base.id) return base
  if (chainId === baseSepolia.id) return baseSepolia
  if (chainId === foundry.id) return foundry
  return { ...foundry, id: chainId, name: `chain ${chainId}` }
}

/** A wallet client that can also read: what deploy scripts and the settlement worker use. */
export type SignerClient = WalletClient<Transport, Chain, Account> & PublicActions<Transport, Chain>

/** A read-only client for `rpcUrl`, with the chain id read from the node. */
export async function createReader(rpcUrl: string) {
  const probe = createPublicClient({ transport: http(rpcUrl) })
  const chain = chainFor(await probe.getChainId())
  return createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 250 })
}

/** A signing client for one private key on `rpcUrl`. */
export async function createSigner(
  rpcUrl: string,
  privateKey: `0x${string}`,
  options: { nonceManager?: boolean } = {},
): Promise<SignerClient> {
  const probe = createPublicClient({ transport: http(rpcUrl) })
  const chain = chainFor(await probe.getChainId())
  return createWalletClient({
    // Without a nonce manager every send reads the pending nonce from the node. The operator
    // sends through its wallet (operatorWallet.ts: nonces in Postgres, recorded before
    // broadcast); scripts and tests that fire sends concurrently from one key ask for viem's.
    account: privateKeyToAccount(privateKey, options.nonceManager ? { nonceManager } : {}),
    chain,
    transport: http(rpcUrl),
    pollingInterval: 250,
  }).extend(publicActions) as SignerClient
}
