// The shapes an owner's authorization travels in, shared by submit, hold, send and record.
import type { Address, Hex } from 'viem'
import type { SignerClient } from '../chain/clients.js'
import type { Deployment } from '../chain/deployment.js'
import type { Logger } from '../core/log.js'
import type { Db } from '../db/client.js'

/**
 * What a signing owner sends: the permit (the allowance) and the terms (lifetime cap, monthly
 * limit, window length). A first authorization needs both — the collector opens nothing from a
 * permit alone; a top-up or re-up of a live subscription is the permit alone; a new limit adds terms.
 */
export type SignedAuthorization = {
  owner: Address
  permit: { value: bigint; deadline: bigint; nonce: bigint; signature: Hex }
  terms?:
    | {
        cap: bigint
        limit: bigint
        period: number
        nonce: number
        deadline: bigint
        signature: Hex
      }
    | undefined
}

/** What writes an authorization to the chain: the database, the operator and the deployment. */
export type ChainWriter = {
  db: Db
  /** The operator: sends transactions the collector accepts only from its operator set. */
  operator: SignerClient
  deployment: Deployment
}

/**
 * What the lifecycle's chain half needs beyond a `ChainWriter`: a log, the RPC's log-range cap and
 * when to replace a transaction not mined. Settlement's context is one.
 */
export type LifecycleContext = ChainWriter & {
  log?: Logger | undefined
  /** Most blocks per log read (the RPC's cap); 2,000 when unset. */
  maxLogRange?: bigint | undefined
  /** Replace a transaction not mined after this long (default 60 s). */
  replaceAfterMs?: number
}
