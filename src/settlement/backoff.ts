import type { WorkerJob } from '../core/workerJob.js'

/**
 * Wraps a chain-facing worker job so transient failures (RPC down, timeouts) back off
 * exponentially — 2×, 4×, … the job's interval, at most `maxMs` — instead of hammering a node
 * that is away. Nothing is recorded on a failed run, so states stay as they were; the first
 * success resets the delay. The error is rethrown for the worker to log.
 */
export function withBackoff(job: WorkerJob, maxMs = 60_000): WorkerJob {
  let failures = 0
  let notBefore = 0
  return {
    ...job,
    run: async (signal) => {
      if (Date.now() < notBefore) return
      try {
        await job.run(signal)
        failures = 0
        notBefore = 0
      } catch (error) {
        failures += 1
        notBefore = Date.now() + Math.min(maxMs, job.everyMs * 2 ** failures)
        throw error
      }
    },
  }
}
