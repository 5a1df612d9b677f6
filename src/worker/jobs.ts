import type { AppContext } from '../api/context.js'
import type { WorkerJob } from './startWorker.js'

/** The jobs a worker process runs: each domain contributes its own periodic work. */
export function workerJobs(_ctx: AppContext): WorkerJob[] {
  return []
}
