// Child process for the crash test: one settlement pass that SIGKILLs itself at the step
// named in CRASH_AT (claimed | sent | receipt), or is killed from outside at a random moment.
import { readFileSync } from 'node:fs'
import { createSigner } from '../../src/chain/clients.js'
import type { Deployment } from '../../src/chain/deployment.js'
import { anvilKeys } from '../../src/config/index.js'
import { parsePrepaidPackages } from '../../src/core/prepaidPackages.js'
import { createDb } from '../../src/db/client.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'

const env = process.env
const deployment = JSON.parse(readFileSync(env.CRASH_DEPLOYMENT!, 'utf8')) as Deployment
const db = createDb({ url: env.CRASH_DB_URL!, max: 2 })
const operator = await createSigner(env.CRASH_RPC_URL!, anvilKeys[1])
await settleOnce(
  {
    db,
    operator,
    deployment,
    thresholdMicros: 1n,
    maxAccrualAgeSeconds: 86_400,
    confirmations: 1,
    // The operator's packages, as PREPAID_PACKAGES: an auto top-up it books may earn a bonus.
    prepaidPackages: parsePrepaidPackages(env.CRASH_PACKAGES ?? ''),
    onStep: (step) => {
      if (step === env.CRASH_AT) process.kill(process.pid, 'SIGKILL')
    },
  },
  { orgIds: env.CRASH_ORGS!.split(','), recoverOlderThanSeconds: 3600 },
)
process.exit(0)
