import type { AppContext } from '../api/context.js'
import { expireReservations } from '../ledger/index.js'
import type { WorkerJob } from './startWorker.js'

/** The jobs a worker process runs: each domain contributes its own periodic work. */
export function workerJobs(ctx: AppContext): WorkerJob[] {
  return [
    {
      // A reservation left open (its caller crashed) expires to void: under-charge, never over-charge.
      name: 'expire-reservations',
      everyMs: 5_000,
      run: async () => {
        const n = await expireReservations(ctx.db)
        if (n > 0) ctx.log.info('reservations expired', { count: n })
      },
    },
  ]
}
