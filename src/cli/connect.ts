import { existsSync } from 'node:fs'
import postgres from 'postgres'
import type { Address } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { createReader, createSigner } from '../chain/clients.js'
import { type Deployment, readDeployment } from '../chain/deployment.js'
import type { Config } from '../config/index.js'
import { ConfigError } from '../core/errors.js'
import { createLogger } from '../core/log.js'
import { closeDb, createDb, type Db } from '../db/client.js'
import { bootDatabase, deploymentPath } from './boot.js'

/**
 * The database for a one-shot command: `DATABASE_URL`, else the embedded PostgreSQL that
 * `tollgate dev` runs (if it is up), else the embedded one started for this command only.
 */
export async function connectDatabase(
  config: Config,
): Promise<{ db: Db; close: () => Promise<void> }> {
  if (config.db.url) {
    const db = createDb({ url: config.db.url, max: 4 })
    return { db, close: () => closeDb(db) }
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${config.db.embeddedPort}/tollgate`
  const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
  const up = await probe`select 1`.then(
    () => true,
    () => false,
  )
  await probe.end({ timeout: 1 })
  if (up) {
    const db = createDb({ url, max: 4 })
    return { db, close: () => closeDb(db) }
  }
  const booted = await bootDatabase(config, createLogger('warn'))
  return { db: booted.db, close: booted.stop }
}

/**
 * The chain for a read-only command: `RPC_URL`, else the anvil `tollgate dev` runs; with the
 * deployment file written at deploy time. Needs no key.
 */
export async function connectReader(config: Config) {
  const rpcUrl = config.chain.rpcUrl ?? `http://127.0.0.1:${config.chain.anvilPort}`
  const reader = await createReader(rpcUrl).catch(() => {
    throw new ConfigError(
      `no chain answers at ${rpcUrl}: set RPC_URL, or start one with \`tollgate dev\``,
    )
  })
  const chainId = reader.chain!.id
  const file = deploymentPath(config, chainId)
  if (!existsSync(file))
    throw new ConfigError(`no deployment for chain ${chainId} at ${file} (DEPLOYMENT_FILE)`)
  return { rpcUrl, reader, deployment: readDeployment(file) }
}

/**
 * Stops a process whose `OPERATOR_KEY` the collector does not accept, before it sends anything:
 * every authorization and batch it sent would revert (`NotOperator`), and an owner would be told
 * their signature was refused.
 */
export async function assertOperator(
  reader: Awaited<ReturnType<typeof createReader>>,
  deployment: Deployment,
  operator: Address,
) {
  const ok = await reader.readContract({
    address: deployment.collector,
    abi: collectorAbi,
    functionName: 'isOperator',
    args: [operator],
  })
  if (!ok)
    throw new ConfigError(
      `OPERATOR_KEY's address ${operator} is not an operator of the collector ${deployment.collector}: the collector's admin adds it (setOperator), or deploy with it in OPERATORS`,
    )
}

/** `connectReader` and the operator key's client, for a command that sends transactions. */
export async function connectChain(config: Config) {
  const { rpcUrl, reader, deployment } = await connectReader(config)
  if (!config.chain.operatorKey)
    throw new ConfigError('OPERATOR_KEY is required to send transactions')
  const operator = await createSigner(rpcUrl, config.chain.operatorKey.reveal())
  await assertOperator(reader, deployment, operator.account.address)
  return { rpcUrl, reader, deployment, operator }
}
