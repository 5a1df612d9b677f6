import { broadcast, chainNonce, receiptOf } from './node.js'
import type { OperatorScope, Row } from './types.js'

/** Settles open rows below the chain's mined nonce: mined, or superseded when none landed. */
async function settleBelow(s: OperatorScope, latest: number) {
  const { sql } = s
  const open = await sql<Row[]>`
    select id, nonce, tx_hashes, raw, status from operator_txs
    where chain_id = ${s.chainId} and genesis = ${s.genesis} and address = ${s.address} and status in ('signed', 'sent') and nonce < ${latest}
    order by nonce`
  for (const row of open) {
    const r = await receiptOf(s, row.tx_hashes)
    await sql`update operator_txs set status = ${r ? 'mined' : 'superseded'}, mined_hash = ${r?.transactionHash ?? null},
      updated_at = clock_timestamp() where id = ${row.id.toString()}`
  }
}

/**
 * Reconciles the recorded nonces with the chain: rows below the chain's nonce are settled
 * (mined, or superseded when none of their hashes landed), open rows the node has forgotten
 * are broadcast again, and the next nonce is max(recorded, chain pending).
 *
 * @example
 * await syncOperator(scope)
 */
export async function syncOperator(s: OperatorScope): Promise<void> {
  const { sql } = s
  const [latest, pending] = await Promise.all([chainNonce(s, 'latest'), chainNonce(s, 'pending')])
  await settleBelow(s, latest)
  const open = await sql<Row[]>`
    select id, nonce, tx_hashes, raw, status from operator_txs
    where chain_id = ${s.chainId} and genesis = ${s.genesis} and address = ${s.address} and status in ('signed', 'sent')
    order by nonce`
  for (const row of open) {
    const known = await s.client
      .getTransaction({ hash: row.tx_hashes.at(-1)! })
      .catch(() => undefined)
    if (!known) {
      s.log?.info('operator transaction broadcast again', { nonce: row.nonce, purpose: 'sync' })
      await broadcast(s, row.raw)
    }
    if (row.status === 'signed')
      await sql`update operator_txs set status = 'sent', updated_at = clock_timestamp() where id = ${row.id.toString()} and status = 'signed'`
  }
  const next = Math.max(pending, ...open.map((r) => r.nonce + 1))
  await sql`
    insert into operator_nonces (chain_id, genesis, address, next_nonce) values (${s.chainId}, ${s.genesis}, ${s.address}, ${next})
    on conflict (chain_id, genesis, address) do update
      set next_nonce = greatest(operator_nonces.next_nonce, excluded.next_nonce), updated_at = clock_timestamp()`
}

/**
 * Broadcasts again every open row below `nonce` that the node does not know (recorded by a
 * process killed before its broadcast): a later nonce waits behind the gap otherwise.
 *
 * @example
 * await healBelow(scope, tx.nonce)
 */
export async function healBelow(s: OperatorScope, nonce: number): Promise<void> {
  const rows = await s.sql<Row[]>`
    select id, nonce, tx_hashes, raw, status from operator_txs
    where chain_id = ${s.chainId} and genesis = ${s.genesis} and address = ${s.address}
      and status in ('signed', 'sent') and nonce < ${nonce}
    order by nonce`
  for (const row of rows) {
    const known = await s.client
      .getTransaction({ hash: row.tx_hashes.at(-1)! })
      .catch(() => undefined)
    if (known) continue
    s.log?.info('operator transaction broadcast again', { nonce: row.nonce })
    await broadcast(s, row.raw)
  }
}
