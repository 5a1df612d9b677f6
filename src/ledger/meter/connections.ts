import postgres from 'postgres'
import { RetryableError } from '../../core/errors.js'
import { connectionLost, type Db } from '../../db/client.js'

/**
 * A connection of the pool, or a RetryableError at `deadline` (the driver keeps trying to
 * connect while the database is unreachable; one that comes after is given straight back).
 */
export function reserveConnection(db: Db, deadline?: number): Promise<postgres.ReservedSql> {
  const pending = db.$client.reserve()
  if (deadline === undefined) return pending
  return new Promise<postgres.ReservedSql>((ok, fail) => {
    let late = false
    const timer = setTimeout(
      () => {
        late = true
        fail(new RetryableError('the database could not be reached', { code: 'UNREACHABLE' }))
      },
      Math.max(0, deadline - Date.now()),
    )
    pending.then(
      (conn) => {
        clearTimeout(timer)
        if (late) conn.release()
        else ok(conn)
      },
      (error) => {
        clearTimeout(timer)
        fail(error)
      },
    )
  })
}

/**
 * Gives a reserved connection back to the pool — unless `error` says it is gone: the driver
 * has already put it with its closed connections, and a release would hand it out again as
 * open (to fail every query sent on it). A live one whose transaction failed is rolled back.
 */
export async function giveBack(conn: postgres.ReservedSql, error?: unknown) {
  if (error !== undefined && connectionLost(error)) return
  if (error !== undefined) await conn.unsafe('rollback').catch(() => undefined)
  conn.release()
}

/**
 * Whether a batch whose COMMIT was sent is in doubt: neither its COMMIT's answer nor an error
 * from the server came back (an error from the server means the transaction was rolled back;
 * a dropped connection means nothing).
 */
export const unanswered = (settled: PromiseSettledResult<unknown>[]) =>
  settled.at(-1)!.status === 'rejected' &&
  !settled.some((r) => r.status === 'rejected' && r.reason instanceof postgres.PostgresError)
