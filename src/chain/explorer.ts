/** The block explorer of a chain: Basescan on Base and Base Sepolia, none on a local chain. */
function explorerBase(chainId: number): string | null {
  if (chainId === 8453) return 'https://basescan.org'
  if (chainId === 84532) return 'https://sepolia.basescan.org'
  return null
}

/** A transaction's explorer link, or null where the chain has no explorer. */
export function txUrl(chainId: number, hash: string): string | null {
  const base = explorerBase(chainId)
  return base ? `${base}/tx/${hash}` : null
}

/** An address's explorer link (a wallet, the token, the collector), or null where there is none. */
export function addressUrl(chainId: number, address: string): string | null {
  const base = explorerBase(chainId)
  return base ? `${base}/address/${address}` : null
}
