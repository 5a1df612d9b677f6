// Child process for the crash test: meters as fast as it can and prints each usage id only
// after its batch committed. The parent SIGKILLs it mid-flight.
import { loadConfig } from '../../src/config/index.js'
import { createDb } from '../../src/db/client.js'
import { createMeter } from '../../src/ledger/index.js'

const config = loadConfig({})
const db = createDb({ url: process.env.CRASH_DB_URL!, max: 4 })
const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
const orgId = process.env.CRASH_ORG_ID!
let n = 0
const worker = async () => {
  for (;;) {
    const key = `crash-${process.pid}-${n++}`
    const o = await meter.meter({
      orgId,
      action: n % 2 ? 'heartbeat' : 'save_comment',
      idempotencyKey: key,
    })
    process.stdout.write(`${o.usageId} ${key}\n`)
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
