import { setMaxListeners } from 'node:events'
import { hostname } from 'node:os'
import type { Logger } from '../core/log.js'
import type { WorkerJob } from '../core/workerJob.js'
import type { Db } from '../db/client.js'
import { recordHeartbeat } from '../db/recordHeartbeat.js'

export type StartWorkerParameters = {
  db: Db
  log: Logger
  jobs: WorkerJob[]
  /** Unique per process; defaults to host and pid. */
  name?: string
}

export type WorkerHandle = { name: string; stop: () => Promise<void> }

/**
 * Runs each job on its own timer until stopped. A job that throws is logged and tried
 * again on its next tick; jobs coordinate with other workers through Postgres row claims,
 * so any number of worker processes may run this at once.
 */
export function startWorker({
  db,
  log,
  jobs,
  name = `worker@${hostname()}:${process.pid}`,
}: StartWorkerParameters): WorkerHandle {
  const controller = new AbortController()
  // Every job loop waits on this signal between runs: one listener per loop, not a leak (the
  // worker has more than Node's default 10 jobs, and `npm start` printed a leak warning).
  setMaxListeners(jobs.length + 1, controller.signal)
  const startedAt = new Date()
  const heartbeat = () =>
    recordHeartbeat(db, { name, kind: 'worker', pid: process.pid, startedAt, now: new Date() })
  const loops = [{ name: 'heartbeat', everyMs: 5_000, run: heartbeat }, ...jobs].map(
    async (job) => {
      while (!controller.signal.aborted) {
        try {
          await job.run(controller.signal)
        } catch (error) {
          if (controller.signal.aborted) break
          log.error(`job ${job.name} failed`, {
            error: error instanceof Error ? error.message : String(error),
          })
        }
        await new Promise<void>((done) => {
          const wake = () => {
            clearTimeout(timer)
            done()
          }
          const timer = setTimeout(() => {
            controller.signal.removeEventListener('abort', wake)
            done()
          }, job.everyMs)
          controller.signal.addEventListener('abort', wake, { once: true })
        })
      }
    },
  )
  return {
    name,
    stop: async () => {
      controller.abort()
      await Promise.allSettled(loops)
    },
  }
}
