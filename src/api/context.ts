import type { Address, PublicClient } from 'viem'
import type { SignerClient } from '../chain/clients.js'
import type { Deployment } from '../chain/deployment.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../core/log.js'
import type { Metrics } from '../core/metrics.js'
import type { Db } from '../db/client.js'
import type { Meter } from '../ledger/index.js'
import type { CaughtMail } from '../notifications/mailCatcher.js'
import type { RateLimits } from './rateLimits.js'

/** What the chain side of a process knows: a reader and the deployed addresses. */
export type ChainContext = {
  reader: PublicClient
  chainId: number
  usdc: Address
  collector: Address | undefined
  deployment: Deployment
  /** The operator key's client (sends authorizations and collections); absent on read-only nodes. */
  operator: SignerClient | undefined
}

/** Everything a request handler may use; passed explicitly, never global. */
export type AppContext = {
  config: Config
  db: Db
  log: Logger
  chain: ChainContext | undefined
  /** The metering engine (group commit); one per process. */
  meter: Meter
  /** The process's metrics; the app makes its own when absent (`tollgate dev` shares one). */
  metrics?: Metrics
  /** Overrides of the per-key and per-address limits (`defaultRateLimits`). */
  rateLimits?: Partial<RateLimits>
  /** `tollgate dev` only: the mail its local SMTP catcher caught, shown at `/dev/mail`. */
  devMail?: { mails: CaughtMail[] } | undefined
}
