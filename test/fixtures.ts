import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { type Account, createTestClient, http, publicActions, walletActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { test as base, inject } from 'vitest'
import { type AnvilHandle, startAnvil } from '../src/chain/anvil.js'
import { createSigner, type SignerClient } from '../src/chain/clients.js'
import { deployContracts } from '../src/chain/deployContracts.js'
import type { Deployment } from '../src/chain/deployment.js'
import { anvilKeys } from '../src/config/index.js'
import { closeDb, createDb, type Db } from '../src/db/client.js'
import { databaseUrl } from './setup/postgres.js'

/** A database of its own, cloned from the run's migrated template. */
async function createTestDatabase(
  label = 'w',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('pgAdminUrl')
  const name = `tg_${label}_${inject('runId')}_${randomBytes(3).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  // CREATE DATABASE ... TEMPLATE needs the template free of other sessions; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database "${name}" template "${inject('pgTemplate')}"`)
      break
    } catch (error) {
      if (attempt > 40) throw error
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))
    }
  }
  await admin.end()
  return {
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists "${name}" with (force)`)
      await a.end()
    },
  }
}

/** A local chain: anvil with real USDC and the collector, and clients for anvil's keys. */
export type TestChain = {
  anvil: AnvilHandle
  rpcUrl: string
  deployment: Deployment
  /** Deployer and collector admin (anvil key 0). */
  deployer: SignerClient
  /** The operator the collector trusts (anvil key 1). */
  operator: SignerClient
  /** anvil's test actions (mine, snapshot, revert, setBalance...). */
  testClient: ReturnType<typeof makeTestClient>
  /** A fresh funded account signer per call. */
  signerFor: (privateKey: `0x${string}`) => Promise<SignerClient>
}

function makeTestClient(rpcUrl: string, account?: Account) {
  return createTestClient({ chain: foundry, mode: 'anvil', transport: http(rpcUrl), account })
    .extend(publicActions)
    .extend(walletActions)
}

/**
 * Starts anvil and deploys everything, as `tollgate dev` does; `chainId` gives it another id
 * than anvil's 31337 (Base Sepolia's, to see its explorer links).
 */
export async function startTestChain(p: { chainId?: number } = {}): Promise<TestChain> {
  const anvil = await startAnvil({ port: 0, ...(p.chainId ? { chainId: p.chainId } : {}) })
  const deployer = await createSigner(anvil.rpcUrl, anvilKeys[0], { nonceManager: true })
  const operator = await createSigner(anvil.rpcUrl, anvilKeys[1])
  const deployment = await deployContracts(deployer, {
    admin: deployer.account.address,
    operators: [operator.account.address],
    payee: privateKeyToAccount(anvilKeys[2]).address,
  })
  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    deployment,
    deployer,
    operator,
    testClient: makeTestClient(anvil.rpcUrl),
    signerFor: (key) => createSigner(anvil.rpcUrl, key, { nonceManager: true }),
  }
}

type WorkerFixtures = { databaseUrl: string; db: Db; chain: TestChain }

/**
 * The integration-test fixture. `db` is a real PostgreSQL database per worker, migrated;
 * `chain` is a real anvil per worker with real USDC deployed. Tests isolate by creating
 * their own orgs and accounts, never by truncating.
 *
 * @example
 * test('meters once', async ({ db }) => { ... })
 */
export const test = base.extend<{ $worker: WorkerFixtures }>({
  databaseUrl: [
    async ({}, use) => {
      const database = await createTestDatabase()
      await use(database.url)
      await database.drop()
    },
    { scope: 'worker' },
  ],
  db: [
    async ({ databaseUrl }, use) => {
      const db = createDb({ url: databaseUrl, max: 8 })
      await use(db)
      await closeDb(db)
    },
    { scope: 'worker' },
  ],
  chain: [
    async ({}, use) => {
      const chain = await startTestChain()
      await use(chain)
      await chain.anvil.stop()
    },
    { scope: 'worker' },
  ],
})

export { describe, expect } from 'vitest'
