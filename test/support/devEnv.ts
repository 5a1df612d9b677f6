import { freePort } from '../../src/chain/anvil.js'

export type DevEnvParameters = {
  /** `TOLLGATE_DATA_DIR`: where the embedded PostgreSQL and the chain state live. */
  dataDir: string
  /** The environment to start from (`process.env` unless given). */
  env?: NodeJS.ProcessEnv
}

/**
 * The environment of an embedded `tollgate dev` stack: three free ports (PostgreSQL, anvil, the
 * API) and no `DATABASE_URL` or `RPC_URL`, so dev starts its own, as `npm start` does.
 *
 * @example
 * const { ports, env } = await devEnv({ dataDir })
 * const dev = startDev(env, ['--no-demo'])
 */
export async function devEnv(p: DevEnvParameters) {
  const ports = { pg: await freePort(), anvil: await freePort(), api: await freePort() }
  const env: NodeJS.ProcessEnv = {
    ...(p.env ?? process.env),
    TOLLGATE_DATA_DIR: p.dataDir,
    EMBEDDED_PG_PORT: String(ports.pg),
    ANVIL_PORT: String(ports.anvil),
    PORT: String(ports.api),
  }
  delete env.DATABASE_URL
  delete env.RPC_URL
  return { ports, env }
}
