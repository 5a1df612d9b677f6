// Child process for the x402 crash test: presents one payment (a top-up of CRASH_ORG, or a
// sign-up) and SIGKILLs itself at the step named in CRASH_AT (recorded | sent | settled), or
// is killed from outside at a random moment.
import { readFileSync } from 'node:fs'
import { createOrgIn } from '../../src/api/createOrg.js'
import { createReader, createSigner } from '../../src/chain/clients.js'
import type { Deployment } from '../../src/chain/deployment.js'
import { anvilKeys } from '../../src/config/index.js'
import { createDb } from '../../src/db/client.js'
import { acceptPayment } from '../../src/x402/acceptPayment.js'
import type { X402Step } from '../../src/x402/context.js'
import { creditPayment } from '../../src/x402/creditPayment.js'

const env = process.env
const deployment = JSON.parse(readFileSync(env.CRASH_DEPLOYMENT!, 'utf8')) as Deployment
const db = createDb({ url: env.CRASH_DB_URL!, max: 2 })
const ctx = {
  db,
  reader: await createReader(env.CRASH_RPC_URL!),
  operator: await createSigner(env.CRASH_RPC_URL!, anvilKeys[1]),
  chainId: deployment.chainId,
  token: deployment.usdc,
  payee: deployment.payee,
  amounts: { topUp: 1_000_000n, min: 1_000_000n, max: 100_000_000n },
  onStep: (step: X402Step) => {
    if (step === env.CRASH_AT) process.kill(process.pid, 'SIGKILL')
  },
}
const orgId = env.CRASH_ORG || null
const payment = await acceptPayment(ctx, {
  header: env.CRASH_HEADER!,
  purpose: orgId ? 'topup' : 'signup',
  orgId,
})
await creditPayment(ctx, payment.id, (tx, owner) =>
  createOrgIn(tx, {
    name: 'crash',
    ownerAddress: owner,
    signupCreditMicros: 0n,
    creditsPerOwner: 0,
  }),
)
process.exit(0)
