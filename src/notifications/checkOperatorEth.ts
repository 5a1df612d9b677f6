import type { SignerClient } from '../chain/clients.js'
import type { Logger } from '../core/log.js'
import type { Db } from '../db/client.js'
import { emitOperatorEthLow } from './emitOperatorEthLow.js'

export type CheckOperatorEthParameters = {
  db: Db
  /** The operator wallet's client: its account pays the gas. */
  operator: SignerClient
  /** Below this the operator is told (`OPERATOR_ETH_LOW_WEI`). */
  thresholdWei: bigint
  /** The operator's own org (`OPERATOR_ORG_ID`), if any. */
  orgId: string | undefined
  log: Logger
}

/**
 * The worker's `operator-eth` job: reads the operator wallet's ETH on chain and writes
 * `operator.eth_low` when it is below the threshold (once per wallet per UTC day).
 * Returns whether an event was written.
 */
export async function checkOperatorEth(p: CheckOperatorEthParameters): Promise<boolean> {
  const address = p.operator.account.address
  const wei = await p.operator.getBalance({ address })
  const written = await emitOperatorEthLow(p.db, {
    address,
    wei,
    thresholdWei: p.thresholdWei,
    orgId: p.orgId,
  })
  if (written) p.log.warn('operator ETH is low', { operator: address, wei: wei.toString() })
  return written
}
