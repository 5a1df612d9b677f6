// bench:notify's delivery worker: a process of its own, as an operator runs `tollgate worker`
// beside the API, with the notification jobs that worker runs (fan out, webhooks) on their own
// pool. Says `ready` on stdout once its first run is done; stops on SIGTERM.
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/core/log.js'
import { closeDb, createDb } from '../../src/db/client.js'
import { notificationJobs } from '../../src/notifications/jobs.js'
import { startWorker } from '../../src/worker/startWorker.js'

const config = loadConfig({})
const db = createDb({ url: process.env.BENCH_DB_URL!, max: 4 })
const log = createLogger('warn')
const jobs = notificationJobs({ db, config, log })
const worker = startWorker({ db, log, jobs })
// The jobs' first run has happened once a heartbeat row exists: the process is warm.
for (;;) {
  const [row] = await db.$client`select 1 from process_heartbeats where name = ${worker.name}`
  if (row) break
  await new Promise((r) => setTimeout(r, 20))
}
process.stdout.write('ready\n')
await new Promise((done) => process.once('SIGTERM', done))
await worker.stop()
await closeDb(db)
