import { existsSync, mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { join } from 'node:path'
import type { PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createApp } from '../api/app.js'
import type { AppContext, ChainContext } from '../api/context.js'
import { type AnvilHandle, startAnvil } from '../chain/anvil.js'
import { createReader, createSigner } from '../chain/clients.js'
import { deployContracts } from '../chain/deployContracts.js'
import { type Deployment, readDeployment, writeDeployment } from '../chain/deployment.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../core/log.js'
import { closeDb, createDb, type Db } from '../db/client.js'
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../db/embeddedPostgres.js'
import { migrateDb } from '../db/migrate.js'
import { workerJobs } from '../worker/jobs.js'
import { registerWorkerMetrics } from '../worker/metrics.js'
import { startWorker, type WorkerHandle } from '../worker/startWorker.js'

/** A step of start-up, reported to whoever shows progress. */
export type BootProgress = (step: string, done?: boolean) => void

/** The database this process uses: `DATABASE_URL`, else an embedded PostgreSQL. */
export async function bootDatabase(config: Config, log: Logger, progress: BootProgress = () => {}) {
  let embedded: EmbeddedPostgresHandle | undefined
  let url = config.db.url
  if (!url) {
    progress('starting embedded PostgreSQL')
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.db.embeddedPort,
      onLog: (line) => log.debug(line.trim(), { source: 'postgres' }),
    })
    url = embedded.url
    progress('starting embedded PostgreSQL', true)
  }
  const db = createDb({ url, max: config.db.poolMax })
  progress('applying migrations')
  await migrateDb(db)
  progress('applying migrations', true)
  return {
    db,
    url,
    embedded: embedded !== undefined,
    stop: async () => {
      await closeDb(db)
      await embedded?.stop()
    },
  }
}

/** Where a chain's deployment file lives: `DEPLOYMENT_FILE`, else under the data folder. */
export function deploymentPath(config: Config, chainId: number) {
  return config.chain.deploymentFile ?? join(config.dataDir, `deployment-${chainId}.json`)
}

/**
 * The chain this process uses: `RPC_URL` with its deployment file, else a local anvil
 * (state kept under the data folder) with real USDC and the collector deployed.
 */
export async function bootChain(config: Config, log: Logger, progress: BootProgress = () => {}) {
  let anvil: AnvilHandle | undefined
  let rpcUrl = config.chain.rpcUrl
  if (!rpcUrl) {
    progress('starting anvil')
    mkdirSync(config.dataDir, { recursive: true })
    anvil = await startAnvil({
      port: config.chain.anvilPort,
      stateFile: join(config.dataDir, 'anvil-state.json'),
    })
    rpcUrl = anvil.rpcUrl
    progress('starting anvil', true)
  }
  const reader = await createReader(rpcUrl)
  const chainId = reader.chain!.id
  const file = deploymentPath(config, chainId)
  let deployment = existsSync(file) ? readDeployment(file) : undefined
  const stale = async (d: Deployment) => {
    const code = await reader.getCode({ address: d.usdc })
    return !code || code === '0x'
  }
  if (!deployment || (await stale(deployment))) {
    if (!anvil)
      throw new Error(`no deployment at ${file} for chain ${chainId}; run scripts/deploy.ts first`)
    progress('deploying USDC and the collector')
    const deployer = await createSigner(rpcUrl, config.chain.deployerKey!.reveal())
    const operator = privateKeyToAccount(config.chain.operatorKey!.reveal()).address
    deployment = await deployContracts(deployer, {
      admin: deployer.account.address,
      operators: [operator],
      payee: config.chain.payee ?? privateKeyToAccount(config.chain.deployerKey!.reveal()).address,
    })
    writeDeployment(file, deployment)
    progress('deploying USDC and the collector', true)
    log.debug('deployed', { file })
  }
  const chain = await chainContext(config, { rpcUrl, reader, deployment })
  return { rpcUrl, chain, deployment, local: anvil !== undefined, stop: async () => anvil?.stop() }
}

/** What a process knows of the chain at `rpcUrl`: its reader, the deployment, the operator key's client. */
export async function chainContext(
  config: Config,
  p: { rpcUrl: string; reader: Awaited<ReturnType<typeof createReader>>; deployment: Deployment },
): Promise<ChainContext> {
  return {
    reader: p.reader as PublicClient,
    chainId: p.deployment.chainId,
    usdc: p.deployment.usdc,
    collector: p.deployment.collector,
    deployment: p.deployment,
    operator: config.chain.operatorKey
      ? await createSigner(p.rpcUrl, config.chain.operatorKey.reveal())
      : undefined,
  }
}

/** Starts the HTTP server for `ctx` on the configured host and port. */
export async function startApi(
  ctx: AppContext,
): Promise<{ server: Server; url: string; stop: () => Promise<void> }> {
  const app = createApp(ctx)
  const server = await new Promise<Server>((ok, fail) => {
    const s = app.listen(ctx.config.http.port, ctx.config.http.host, (error?: Error) =>
      error ? fail(error) : ok(s),
    )
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : ctx.config.http.port
  return {
    server,
    url: `http://${ctx.config.http.host}:${port}`,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  }
}

/** Starts the settlement worker's jobs in this process (and its gauges, given metrics). */
export function startWorkerFor(ctx: AppContext & { db: Db }): WorkerHandle {
  if (ctx.metrics) registerWorkerMetrics(ctx, ctx.metrics)
  return startWorker({
    db: ctx.db,
    log: ctx.log.child({ process: 'worker' }),
    jobs: workerJobs(ctx),
  })
}
