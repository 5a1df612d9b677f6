import type { Address, PublicClient } from 'viem'
import type { SignerClient } from '../chain/clients.js'
import type { Logger } from '../core/log.js'
import type { Db } from '../db/client.js'

/** The fault points of an x402 settlement, for crash tests (`onStep`). */
export type X402Step = 'recorded' | 'sent' | 'settled' | 'credited'

/** What the x402 door needs: the database, the chain, our payee and the amounts it takes. */
export type X402Context = {
  db: Db
  /** Reads the token (domain, authorization state, logs) and verifies signatures. */
  reader: PublicClient
  /** The operator key that submits `transferWithAuthorization`; absent on read-only nodes. */
  operator: SignerClient | undefined
  chainId: number
  /** The USDC the payments are in. */
  token: Address
  /** Where every payment must go (the deployment's payee). */
  payee: Address
  /** Micro-credits: the top-up a 402 offers, and the least and most one payment may be. */
  amounts: { topUp: bigint; min: bigint; max: bigint }
  /** How long a settle waits for the chain before answering "pending, retry" (default 30 s). */
  settleTimeoutMs?: number
  /**
   * How old a `settling` claim with no transaction recorded must be to count as a dead process's
   * (default 30 s, longer than any send takes); a recovery that knows no other process runs may
   * say 0.
   */
  deadClaimSeconds?: number
  log?: Logger | undefined
  /** Runs after each recorded step (crash tests kill the process here). */
  onStep?: ((step: X402Step, paymentId: bigint) => Promise<void> | void) | undefined
}
