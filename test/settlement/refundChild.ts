// Child process for the refund payout crash test: pays one refund back on-chain and SIGKILLs
// itself at the step named in CRASH_AT (intent | signed | sent | receipt), or is killed from
// outside at a random moment.
import { readFileSync } from 'node:fs'
import { createSigner } from '../../src/chain/clients.js'
import type { Deployment } from '../../src/chain/deployment.js'
import { anvilKeys } from '../../src/config/index.js'
import { createDb } from '../../src/db/client.js'
import { payRefundOnchain } from '../../src/settlement/payRefundOnchain.js'

const env = process.env
const deployment = JSON.parse(readFileSync(env.CRASH_DEPLOYMENT!, 'utf8')) as Deployment
const db = createDb({ url: env.CRASH_DB_URL!, max: 2 })
const payee = await createSigner(env.CRASH_RPC_URL!, anvilKeys[2])
const die = (step: string) => {
  if (step === env.CRASH_AT) process.kill(process.pid, 'SIGKILL')
}
await payRefundOnchain(
  {
    db,
    payee,
    deployment,
    confirmations: 1,
    beforeBroadcast: () => die('signed'),
    onStep: die,
  },
  { orgId: env.CRASH_ORG!, idempotencyKey: env.CRASH_KEY! },
)
process.exit(0)
