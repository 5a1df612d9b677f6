import { type Address, type Chain, type Client, type Hex, pad, type Transport } from 'viem'
import { getChainId, readContract } from 'viem/actions'
import { usdcAbi } from '../chain/abis.js'

/** The on-chain id of a subscription: its 128-bit hex id, left-padded to bytes32. */
export const subscriptionKey = (subscriptionId: string): Hex =>
  pad(`0x${subscriptionId}`, { size: 32 })

/** The token's own EIP-712 domain, read from the token (never hard-coded: "USD Coin" on Base, "USDC" on Base Sepolia). */
async function readTokenDomain(client: Client<Transport, Chain | undefined>, token: Address) {
  const [name, version, chainId] = await Promise.all([
    readContract(client, { address: token, abi: usdcAbi, functionName: 'name' }),
    readContract(client, { address: token, abi: usdcAbi, functionName: 'version' }),
    getChainId(client),
  ])
  return { name, version, chainId, verifyingContract: token } as const
}

const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

const termsTypes = {
  Terms: [
    { name: 'subscription', type: 'bytes32' },
    { name: 'cap', type: 'uint64' },
    { name: 'limit', type: 'uint64' },
    { name: 'period', type: 'uint32' },
    { name: 'nonce', type: 'uint32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const

/** The collector's EIP-712 domain: what an owner sees as "Tollgate Collector" in the wallet prompt. */
const collectorDomain = (chainId: number, collector: Address) =>
  ({ name: 'Tollgate Collector', version: '1', chainId, verifyingContract: collector }) as const

export type TermsMessage = {
  subscription: Hex
  /** The lifetime cap: the most the collector will ever collect for this subscription. */
  cap: bigint
  limit: bigint
  period: number
  nonce: number
  deadline: bigint
}

/** The permit an owner signs for the collector: the allowance is the cap. */
export async function permitTypedData(
  client: Client<Transport, Chain | undefined>,
  p: {
    token: Address
    owner: Address
    spender: Address
    value: bigint
    deadline: bigint
    nonce?: bigint
  },
) {
  const domain = await readTokenDomain(client, p.token)
  const nonce =
    p.nonce ??
    (await readContract(client, {
      address: p.token,
      abi: usdcAbi,
      functionName: 'nonces',
      args: [p.owner],
    }))
  return {
    domain,
    types: permitTypes,
    primaryType: 'Permit' as const,
    message: { owner: p.owner, spender: p.spender, value: p.value, nonce, deadline: p.deadline },
  }
}

/**
 * Terms (lifetime cap, monthly limit, window length) on the collector, for one subscription id;
 * a newer nonce voids older ones. A subscription opens only with terms and a permit.
 */
export function termsTypedData(p: { chainId: number; collector: Address; message: TermsMessage }) {
  return {
    domain: collectorDomain(p.chainId, p.collector),
    types: termsTypes,
    primaryType: 'Terms' as const,
    message: p.message,
  }
}

/**
 * The cancel an owner signs: a zero-value permit for the collector at their current token nonce.
 * The collector submits it with the cancel, so the allowance ends at 0 and every older permit
 * they signed but nobody submitted (same nonce) is void (docs/design.md, Cancel leaves nothing behind).
 */
export async function cancelPermitTypedData(
  client: Client<Transport, Chain | undefined>,
  p: { token: Address; owner: Address; collector: Address; deadline: bigint; nonce?: bigint },
) {
  return await permitTypedData(client, {
    token: p.token,
    owner: p.owner,
    spender: p.collector,
    value: 0n,
    deadline: p.deadline,
    nonce: p.nonce,
  })
}

/**
 * The permit value for a (re-)authorization to a lifetime cap of `cap`: what is already
 * collected, booked, or on its way (a pull submitted and not yet confirmed counts as drawn)
 * counts against it, so a pull racing the permit can only leave the owner under their cap (a
 * permit sets the allowance, it does not add to it).
 */
export function permitValueForCap(p: {
  cap: bigint
  collected: bigint
  booked: bigint
  inFlight?: bigint
}): bigint {
  const v = p.cap - p.collected - p.booked - (p.inFlight ?? 0n)
  return v > 0n ? v : 0n
}
