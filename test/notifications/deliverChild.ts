// Child process for the crash test: fans out and delivers webhooks until killed. Claims run
// out after CLAIM_MS, so what a killed child held is sent again by the next one.
import { loadConfig } from '../../src/config/index.js'
import { createDb } from '../../src/db/client.js'
import { deliverWebhooks, fanOut } from '../../src/notifications/deliver.js'

const config = loadConfig({ PUBLIC_BASE_URL: 'https://tollgate.test' })
const db = createDb({ url: process.env.CRASH_DB_URL!, max: 4 })
const retry = { baseDelayMs: 20, maxDelayMs: 100, giveUpAfterMs: 3_600_000 }
for (;;) {
  const fanned = await fanOut(db, Number(process.env.FAN_BATCH ?? 50))
  const sent = await deliverWebhooks(db, {
    key: config.notifications.key,
    links: { publicBaseUrl: config.product.publicBaseUrl },
    retry,
    batch: 10,
    claimMs: Number(process.env.CLAIM_MS ?? 300),
  })
  if (fanned === 0 && sent === 0) await new Promise((r) => setTimeout(r, 20))
}
