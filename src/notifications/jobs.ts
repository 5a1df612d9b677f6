import type { Config } from '../config/index.js'
import type { Logger } from '../core/log.js'
import type { WorkerJob } from '../core/workerJob.js'
import type { Db } from '../db/client.js'
import { deliverWebhooks, fanOut, type RetryPolicy } from './deliver.js'
import { deliverEmails } from './deliverEmails.js'
import { emitBudgetResets } from './emitBudgetResets.js'
import { emitExpiringPermits } from './emitExpiringPermits.js'
import { type Mailer, smtpMailer } from './mailer.js'

export type NotificationJobsParameters = {
  db: Db
  config: Config
  log: Logger
  chainId?: number | undefined
  retry?: RetryPolicy | undefined
  everyMs?: number | undefined
  /** Between looks for events that time alone causes (budget.reset, permit.expiring). */
  dueEveryMs?: number | undefined
  /** The clock `notify-due` looks at (tests move it past a window's end). Default: now. */
  now?: (() => Date) | undefined
  /** Sends the mail; by default SMTP at `SMTP_URL` (unset: no mail is sent). */
  mailer?: Mailer | undefined
}

/**
 * The delivery worker's jobs: fan the outbox out and send what is due (webhooks, mail), and
 * write the events no transaction causes — a budget's window rolling over, a held permit's
 * deadline coming near — when the clock brings them. They
 * touch only the notification tables, so metering and settlement never wait on them; any
 * number of workers may run them at once (`SKIP LOCKED` claims).
 */
export function notificationJobs(p: NotificationJobsParameters): WorkerJob[] {
  const links = { publicBaseUrl: p.config.product.publicBaseUrl, chainId: p.chainId }
  const n = p.config.notifications
  const mailer = p.mailer ?? (n.smtpUrl ? smtpMailer(n.smtpUrl) : undefined)
  const mail = mailer && {
    mailer,
    from: n.mailFrom,
    productName: p.config.product.name,
    key: n.key,
    links,
  }
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
          const mailed = mail ? await deliverEmails(p.db, mail) : 0
          if (fanned === 0 && sent === 0 && mailed === 0) break
        }
      },
    },
    {
      name: 'notify-due',
      everyMs: p.dueEveryMs ?? 60_000,
      run: async () => {
        const now = p.now?.() ?? new Date()
        const resets = await emitBudgetResets(p.db, now)
        const permits = await emitExpiringPermits(p.db, now)
        if (resets + permits > 0) p.log.info('time-caused events written', { resets, permits })
      },
    },
  ]
}
