// Deploys the local ERC-4337 stack on a running anvil, at the canonical addresses, from the npm
// packages' prebuilt bytecode: EntryPoint v0.7 + SimpleAccountFactory, EntryPoint v0.8 +
// Simple7702Account, Safe 1.4.1 (singleton, proxy factory, MultiSend, fallback handler) + the Safe
// 4337 module 0.3.0. Idempotent: what is already there is left alone. Local chains only (Base
// already has all of it at the same addresses).
//
// Environment:
//   RPC_URL        the anvil to deploy to (default http://127.0.0.1:8545)
//   DEPLOYER_KEY   0x-prefixed key that pays (default anvil key 0)
//
//   node --import tsx scripts/aa/deployAaStack.ts

import { createSigner } from '../../src/chain/clients.js'
import { anvilKeys } from '../../src/config/index.js'
import { deployAaStack } from '../../test/support/deployAaStack.js'

async function main() {
  const rpcUrl = process.env.RPC_URL || 'http://127.0.0.1:8545'
  const key = (process.env.DEPLOYER_KEY || anvilKeys[0]) as `0x${string}`
  const client = await createSigner(rpcUrl, key)
  const chainId = await client.getChainId()
  if (chainId === 8453 || chainId === 84532) {
    console.error(
      'deployAaStack: Base and Base Sepolia already have the ERC-4337 stack; nothing to do',
    )
    process.exit(1)
  }
  const { addresses, deployed, planted } = await deployAaStack(client)
  for (const [name, address] of Object.entries(addresses))
    console.log(
      `${deployed.includes(name as never) ? 'deployed' : planted.includes(address) ? 'planted ' : 'present '}  ${name.padEnd(32)} ${address}`,
    )
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
