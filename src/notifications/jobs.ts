import type { Config } from '../config/index.js'
import type { Db } from '../db/client.js'
import type { Logger } from '../log.js'
import type { WorkerJob } from '../workerJob.js'
import { deliverWebhooks, fanOut, type RetryPolicy } from './deliver.js'

export type NotificationJobsParameters = {
  db: Db
  config: Config
  log: Logger
  chainId?: number | undefined
  retry?: RetryPolicy | undefined
  everyMs?: number | undefined
}

/**
 * The delivery worker's jobs: fan the outbox out and send what is due (webhooks, mail). They
 * touch only the notification tables, so metering and settlement never wait on them; any
 * number of workers may run them at once (`SKIP LOCKED` claims).
 */
export function notificationJobs(p: NotificationJobsParameters): WorkerJob[] {
  const links = { publicBaseUrl: p.config.product.publicBaseUrl, chainId: p.chainId }
  return [
    {
      name: 'notify-deliver',
      everyMs: p.everyMs ?? 250,
      run: async (signal) => {
        // Drain: a burst goes out in one run, not one batch per tick.
        while (!signal.aborted) {
          const fanned = await fanOut(p.db)
          const sent = await deliverWebhooks(p.db, {
            key: p.config.notifications.key,
            links,
            retry: p.retry,
          })
          if (fanned === 0 && sent === 0) break
        }
      },
    },
  ]
}
