import { createServer } from 'node:net'
import type { Config } from '../config/index.js'

export type TakenPortParameters = {
  config: Config
  /** The environment the config came from: a variable set there was chosen, not defaulted. */
  env: Record<string, string | undefined>
}

/** Whether `host:port` can be listened on now; false only when another program holds it. */
function free(host: string, port: number): Promise<boolean> {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.unref()
    server.once('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EADDRINUSE' ? ok(false) : fail(e),
    )
    server.listen(port, host, () => server.close(() => ok(true)))
  })
}

/**
 * The sentence `tollgate dev` stops with when a port it is to listen on is held by another
 * program, naming the variable that picks another (undefined when all are free): `PORT` always
 * (unless 0, any free one), `EMBEDDED_PG_PORT` without `DATABASE_URL`, `ANVIL_PORT` without
 * `RPC_URL`. Checked before anything starts: a taken port does not come free by retrying, so
 * waiting through restarts only delays the one thing to say.
 *
 * @example
 * const taken = await takenPort({ config, env: process.env })
 * if (taken) throw new DevRefusal(taken)
 */
export async function takenPort(p: TakenPortParameters): Promise<string | undefined> {
  const { config } = p
  const wanted: (readonly [variable: string, host: string, port: number])[] = [
    ...(config.http.port === 0 ? [] : [['PORT', config.http.host, config.http.port] as const]),
    ...(config.db.url ? [] : [['EMBEDDED_PG_PORT', '127.0.0.1', config.db.embeddedPort] as const]),
    ...(config.chain.rpcUrl ? [] : [['ANVIL_PORT', '127.0.0.1', config.chain.anvilPort] as const]),
  ]
  for (const [variable, host, port] of wanted) {
    if (await free(host, port)) continue
    return p.env[variable] !== undefined
      ? `${variable}=${port} is taken by another program: stop it, or set ${variable} to a free port.`
      : `Port ${port} (the default for ${variable}) is taken by another program: stop it, or set ${variable} to a free port, e.g. ${variable}=${port + 1} npm start.`
  }
  return undefined
}
