// Deploys Tollgate's contracts and writes the deployment JSON the app reads.
//
//   anvil (chain 31337):        real USDC (FiatToken v2.2) + collector + validator
//   Base Sepolia (84532), Base (8453): collector + validator against Circle's USDC
//
// Environment:
//   RPC_URL           node to deploy through (default http://127.0.0.1:8545)
//   DEPLOYER_KEY      0x-prefixed private key that pays for the deployment (anvil: key 0 by default)
//   PAYEE             receives every collection (required off anvil; anvil: the deployer)
//   ADMIN             manages operators (default: the deployer)
//   OPERATORS         comma-separated operator addresses (default: OPERATOR_KEY's address, else none)
//   USDC              override the token address (e.g. an already deployed local USDC)
//   DEPLOYMENT_FILE   where to write (default: where the app reads it,
//                     $TOLLGATE_DATA_DIR/deployment-<chainId>.json, the data dir .tollgate/)
//
//   node --import tsx scripts/deploy.ts
import { join, resolve } from 'node:path'
import {
  type Address,
  createPublicClient,
  getAddress,
  type Hex,
  http,
  isAddress,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createSigner } from '../src/chain/clients.js'
import { deployContracts } from '../src/chain/deployContracts.js'
import { writeDeployment } from '../src/chain/deployment.js'
import { verifyDeployment } from '../src/chain/verifyDeployment.js'
import { projectRoot } from '../src/config/index.js'

/** Circle's USDC on the chains Tollgate runs on. */
const CIRCLE_USDC: Record<number, Address> = {
  8453: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  84532: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
}
const ANVIL_KEY_0: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

function fail(message: string): never {
  console.error(`deploy: ${message}`)
  process.exit(1)
}

function address(name: string, value: string | undefined): Address | undefined {
  if (value === undefined || value === '') return undefined
  if (!isAddress(value, { strict: false })) fail(`${name} is not an address: ${value}`)
  return getAddress(value)
}

async function main() {
  const rpcUrl = process.env.RPC_URL ?? 'http://127.0.0.1:8545'
  const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId()
  const local = chainId === 31337
  if (!local && !CIRCLE_USDC[chainId] && !process.env.USDC) {
    fail(
      `chain ${chainId} is neither anvil (31337), Base Sepolia (84532) nor Base (8453); set USDC to deploy anyway`,
    )
  }
  const key = (process.env.DEPLOYER_KEY ?? (local ? ANVIL_KEY_0 : undefined)) as Hex | undefined
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    fail('DEPLOYER_KEY must be a 0x-prefixed 32-byte private key')
  const client = await createSigner(rpcUrl, key)
  const deployer = client.account.address

  const payee =
    address('PAYEE', process.env.PAYEE) ?? (local ? deployer : fail('PAYEE is required off anvil'))
  const admin = address('ADMIN', process.env.ADMIN) ?? deployer
  // The operator key the workers will run with is an operator unless OPERATORS says otherwise.
  const operatorKey = process.env.OPERATOR_KEY
  if (operatorKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(operatorKey))
    fail('OPERATOR_KEY must be a 0x-prefixed 32-byte private key')
  const operators = (
    process.env.OPERATORS ?? (operatorKey ? privateKeyToAccount(operatorKey as Hex).address : '')
  )
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => address('OPERATORS', s)!)
  const usdc = address('USDC', process.env.USDC) ?? CIRCLE_USDC[chainId]

  console.log(
    `deploying on chain ${chainId} from ${deployer}${usdc ? ` against USDC ${usdc}` : ' with a new USDC'}`,
  )
  const deployment = await deployContracts(client, {
    payee,
    admin,
    operators,
    ...(usdc ? { usdc } : {}),
  })
  // Read back from the chain before anything is written: code at every address, the collector's
  // immutables, admin and operators, and the token's EIP-712 domain matching its separator.
  const domain = await verifyDeployment(client as unknown as PublicClient, deployment)
  // The app's own default (docs/operations.md § Configuration), so it reads what was written.
  const dataDir = process.env.TOLLGATE_DATA_DIR ?? join(projectRoot, '.tollgate')
  const file = resolve(process.env.DEPLOYMENT_FILE ?? join(dataDir, `deployment-${chainId}.json`))
  writeDeployment(file, deployment)
  console.log(JSON.stringify(deployment, null, 2))
  console.log(
    `verified: code at token, collector and validator; token EIP-712 domain ${JSON.stringify(domain)}`,
  )
  console.log(`wrote ${file}`)
}

await main()
