import type { Address, PublicClient } from 'viem'
import { usdcAbi } from '../chain/abis.js'

const cache = new Map<string, Promise<{ name: string; version: string }>>()

/**
 * The token's EIP-712 domain name and version, read from the token once per process (never
 * hard-coded: "USD Coin" on Base, "USDC" on Base Sepolia).
 */
export function tokenDomain(
  reader: PublicClient,
  chainId: number,
  token: Address,
): Promise<{ name: string; version: string }> {
  const key = `${chainId}:${token.toLowerCase()}`
  let d = cache.get(key)
  if (!d) {
    d = Promise.all([
      reader.readContract({ address: token, abi: usdcAbi, functionName: 'name' }),
      reader.readContract({ address: token, abi: usdcAbi, functionName: 'version' }),
    ]).then(([name, version]) => ({ name, version }))
    d.catch(() => cache.delete(key))
    cache.set(key, d)
  }
  return d
}
