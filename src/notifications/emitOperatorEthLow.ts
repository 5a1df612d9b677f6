import { createHash } from 'node:crypto'
import type { Db } from '../db/client.js'

export type EmitOperatorEthLowParameters = {
  /** The operator wallet that pays the gas. */
  address: string
  /** Its balance now, in wei. */
  wei: bigint
  /** Below this the operator is told. */
  thresholdWei: bigint
  /** The operator's own org (`OPERATOR_ORG_ID`): its endpoints and address receive the event. */
  orgId: string | undefined
  now?: Date | undefined
}

/**
 * Writes `operator.eth_low` when the operator wallet holds less ETH than the threshold: once per
 * wallet per UTC day while it stays low (the id is derived from both), so a forgotten top-up is
 * said again each day but a storm of checks says it once. The event goes to the operator's own
 * org — its webhook endpoints and verified address, as any event — or, with no such org
 * configured, only to the events table. Returns whether one was written.
 */
export async function emitOperatorEthLow(
  db: Db,
  p: EmitOperatorEthLowParameters,
): Promise<boolean> {
  if (p.wei >= p.thresholdWei) return false
  const day = (p.now ?? new Date()).toISOString().slice(0, 10)
  const key = `operator.eth_low:${p.address.toLowerCase()}:${day}`
  const id = `evt_${createHash('md5').update(key).digest('hex')}`
  const rows = await db.$client`
    select tollgate_emit_event(${id}, ${p.orgId ?? null}::uuid, null, 'operator.eth_low',
      jsonb_build_object('address', ${p.address}::text, 'balance_wei', ${p.wei.toString()}::text,
        'threshold_wei', ${p.thresholdWei.toString()}::text))
    where not exists (select from events where id = ${id})`
  return rows.length > 0
}
