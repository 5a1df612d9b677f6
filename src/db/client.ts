import net from 'node:net'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { RetryableError } from '../core/errors.js'

/**
 * The database handle every domain function takes first. `db.$client` is postgres.js. It knows
 * no tables: each folder imports its own from its `schema.ts`, so the handle pulls none upward.
 */
export type Db = PostgresJsDatabase & { $client: postgres.Sql }

export type CreateDbParameters = {
  url: string
  /** Pool size; keep the sum over all processes well under the server's `max_connections`. */
  max?: number
  /** Name shown in `pg_stat_activity`. */
  applicationName?: string
}

/** Opens a pooled connection to PostgreSQL. Numeric and int8 values come back as strings. */
export function createDb({ url, max = 10, applicationName = 'tollgate' }: CreateDbParameters): Db {
  const { url: tcp, path } = socketPath(url)
  const sql = postgres(tcp, {
    max,
    ...(path ? { path } : {}),
    onnotice: () => {},
    // No JIT: every query here is short, and a plan costed without statistics (a fresh table,
    // autovacuum off) would spend seconds compiling what runs in a millisecond.
    connection: { application_name: applicationName, jit: 'off' },
    // Money is bigint; never let a driver turn it into a float.
    types: { bigint: postgres.BigInt },
    socket: coalescingSocket,
  } as postgres.Options<Record<string, postgres.PostgresType>>)
  return drizzle({ client: sql }) as Db
}

/**
 * A URL in libpq's form for a Unix-domain socket, `postgres://user@localhost/db?host=/var/run/postgresql`
 * (the directory holding the server's socket): the driver takes the socket's path apart from the
 * URL, and the rest of the URL as it is. Any other URL is left alone.
 *
 * @internal Exported for test/dbProxy.ts and the benches' databases, which connect the same way.
 */
export function socketPath(url: string): { url: string; path?: string } {
  const u = new URL(url)
  const dir = u.searchParams.get('host')
  if (!dir?.startsWith('/')) return { url }
  u.searchParams.delete('host')
  return { url: u.toString(), path: `${dir}/.s.PGSQL.${u.port || 5432}` }
}

/**
 * Whether `error` says the connection is gone or never came (closed, reset, refused, timed
 * out): the driver's own codes and the socket's, never the server's. Nothing more can be sent
 * on that connection — not even a ROLLBACK.
 */
export const connectionLost = (error: unknown) =>
  !(error instanceof postgres.PostgresError) &&
  typeof (error as { code?: unknown } | null)?.code === 'string' &&
  /^(CONNECTION_|CONNECT_TIMEOUT$|E[A-Z]+$)/.test((error as { code: string }).code)

/**
 * The database cannot take work now, whatever the work: it cannot be reached (`connectionLost`;
 * SQLSTATE 08, connection exception; 57P01-03, admin or crash shutdown, cannot connect now:
 * `UNREACHABLE`), or it is out of connections or other resources (53: `RETRYABLE`). As the
 * retryable error to answer with; undefined for anything else.
 */
export function databaseUnavailable(err: unknown): RetryableError | undefined {
  const code = err instanceof postgres.PostgresError ? err.code : ''
  if (connectionLost(err) || code.startsWith('08') || /^57P0[123]$/.test(code))
    return new RetryableError('the database could not be reached; retry', {
      code: 'UNREACHABLE',
      cause: err,
    })
  if (code.startsWith('53'))
    return new RetryableError('the database is busy; retry', { cause: err })
  return undefined
}

/** Closes the pool, waiting briefly for queries in flight. */
export async function closeDb(db: Db): Promise<void> {
  await db.$client.end({ timeout: 5 })
}

type SocketOptions = {
  host: string[]
  port: number[]
  path?: string | false
  connect_timeout?: number
}

/**
 * A connection whose writes in one turn of the event loop leave in one system call. The
 * driver writes each statement of a pipeline as it is issued (at once when it is 1 kB or
 * more); the metering engine issues a batch's statements back to back, and one system call
 * for all of them wakes the server once. Corked until the turn's microtasks have run, they go
 * together, in the order written. It goes to the socket path, or to the first of the hosts
 * that answers — the last one handed over still connecting (the driver writes its start-up
 * message at once, and the socket sends it once connected). Its failure then takes the driver's
 * own path: the queries waiting get the socket's error (ECONNREFUSED…), the connection is
 * closed, and the next query opens a new one. (Thrown from here instead, the error would reach
 * the first query, but the driver would keep that connection neither open nor closed, and every
 * later query on it would wait forever, even once the database is back.)
 */
async function coalescingSocket(options: SocketOptions): Promise<net.Socket> {
  const targets: Array<() => net.Socket> = options.path
    ? [() => newSocket().connect(options.path as string)]
    : options.host.map(
        (host, i) => () => newSocket().connect(options.port[i] ?? options.port[0]!, host),
      )
  for (const open of targets.slice(0, -1)) {
    try {
      return coalesce(await connected(open(), (options.connect_timeout ?? 30) * 1000))
    } catch {
      // The next host.
    }
  }
  return coalesce(targets.at(-1)!())
}

// Corked writes count against the stream's high-water mark, and the driver stops pipelining
// when a write reports it reached it: the mark sits above any batch's statements. (Node's
// sockets take the stream option; its types do not list it.)
const newSocket = () =>
  new net.Socket({ writableHighWaterMark: 4 << 20 } as net.SocketConstructorOpts)

function connected(socket: net.Socket, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      clearTimeout(timer)
      reject(error)
    }
    const timer = setTimeout(() => {
      socket.destroy()
      failed(new Error(`connecting to PostgreSQL timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('error', failed).once('connect', () => {
      clearTimeout(timer)
      // From here on the driver's own error handler reports what goes wrong.
      socket.off('error', failed)
      resolve(socket)
    })
  })
}

function coalesce(socket: net.Socket): net.Socket {
  const write = socket.write
  let corked = false
  socket.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (!corked) {
      corked = true
      this.cork()
      process.nextTick(() => {
        corked = false
        this.uncork()
      })
    }
    return write.apply(this, args)
  } as net.Socket['write']
  return socket
}
