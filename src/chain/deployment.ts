import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Address } from 'viem'

/**
 * Where Tollgate's contracts live on one chain: what the app, the worker and the indexer read.
 * Plain JSON (no bigint), so it is written to and read from a file as is.
 */
export type Deployment = {
  /** 31337 (anvil), 84532 (Base Sepolia) or 8453 (Base). */
  chainId: number
  /** The USDC proxy (FiatToken v2.2). */
  usdc: Address
  /** The collector: the spender owners' permits authorize. */
  collector: Address
  /** The unprivileged ERC-6492 validator. */
  validator: Address
  /** Where every collection is paid; fixed in the collector at deployment. */
  payee: Address
  /** The collector's admin (manages the operator set). */
  admin: Address
  /** Operators allowed to submit permits, terms and collections at deployment time. */
  operators: Address[]
  /** Block numbers the contracts were deployed at: where the event indexer starts. */
  blocks: { usdc: number | null; collector: number; validator: number }
  /** Only for a USDC this deployment created itself (anvil): its role holders. */
  usdcRoles?: {
    proxyAdmin: Address
    masterMinter: Address
    pauser: Address
    blacklister: Address
    owner: Address
  }
}

/** Reads a deployment JSON file written by `writeDeployment`. */
export function readDeployment(path: string): Deployment {
  const deployment = JSON.parse(readFileSync(path, 'utf8')) as Deployment
  if (typeof deployment.chainId !== 'number' || typeof deployment.usdc !== 'string') {
    throw new Error(`${path} is not a Tollgate deployment file`)
  }
  return deployment
}

/** Writes `deployment` as pretty JSON to `path`, creating its folder. */
export function writeDeployment(path: string, deployment: Deployment): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(deployment, null, 2)}\n`)
}
