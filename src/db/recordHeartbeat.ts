import type { Db } from './client.js'
import { processHeartbeats } from './coreSchema.js'

export type RecordHeartbeatParameters = {
  /** Unique per process (host and pid by default). */
  name: string
  kind: 'api' | 'worker'
  pid: number
  startedAt: Date
  now: Date
}

/**
 * Records that a process is alive (its row in `process_heartbeats`, made or refreshed), read by
 * `/healthz` to tell a stalled worker.
 * @example await recordHeartbeat(db, { name, kind: 'worker', pid: process.pid, startedAt, now: new Date() })
 */
export async function recordHeartbeat(db: Db, p: RecordHeartbeatParameters): Promise<void> {
  await db
    .insert(processHeartbeats)
    .values({ name: p.name, kind: p.kind, pid: p.pid, startedAt: p.startedAt, lastSeenAt: p.now })
    .onConflictDoUpdate({
      target: processHeartbeats.name,
      set: { lastSeenAt: p.now, pid: p.pid, startedAt: p.startedAt },
    })
}
