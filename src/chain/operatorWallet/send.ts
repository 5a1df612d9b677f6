import type { Hex } from 'viem'
import { broadcast, chainNonce, sign } from './node.js'
import { healBelow } from './sync.js'
import {
  type OperatorScope,
  type OperatorTx,
  type Row,
  type SendParameters,
  toTx,
} from './types.js'

/**
 * Takes the next nonce under a row lock, signs the transaction and records it (nonce, hash, raw
 * bytes) BEFORE it is broadcast, then broadcasts it: a process killed at any point leaves a row
 * the next one finishes. Processes sharing a key never reuse a nonce.
 *
 * @example
 * const tx = await sendOperatorTx(scope, { to, data, purpose: 'batch:1' })
 */
export async function sendOperatorTx(s: OperatorScope, p: SendParameters): Promise<OperatorTx> {
  const { client, sql, log, chainId, genesis, address } = s
  const gas =
    p.gas ?? (await client.estimateGas({ account: client.account, to: p.to, data: p.data }))
  const fees = await client.estimateFeesPerGas()
  let pending = 0
  const tx = await sql.begin(async (t) => {
    await t`
      insert into operator_nonces (chain_id, genesis, address, next_nonce) values (${chainId}, ${genesis}, ${address}, 0)
      on conflict (chain_id, genesis, address) do nothing`
    const [n] = await t<{ next_nonce: number }[]>`
      select next_nonce from operator_nonces where chain_id = ${chainId} and genesis = ${genesis} and address = ${address} for update`
    // Read under the lock: every row another sender recorded is committed and either open
    // here or already counted by the node.
    pending = await chainNonce(s, 'pending')
    // The lowest nonce the chain has not used and no open row holds. Normally that is our
    // counter; the chain may be ahead (the key used outside Tollgate: never reuse), or
    // behind with no open row there (a reorg gave the nonce back: sign it again).
    const open = await t<{ nonce: number }[]>`
      select nonce from operator_txs where chain_id = ${chainId} and genesis = ${genesis} and address = ${address}
        and status in ('signed', 'sent') and nonce >= ${pending} order by nonce`
    let nonce = pending
    for (const o of open) if (o.nonce === nonce) nonce++
    if (nonce < n!.next_nonce) {
      const gone = await t`
        update operator_txs set status = 'dropped', updated_at = clock_timestamp()
        where chain_id = ${chainId} and genesis = ${genesis} and address = ${address} and nonce = ${nonce}
          and status in ('mined', 'superseded')`
      log?.warn('operator nonce given back by the chain', { nonce, dropped: gone.count })
    }
    const r = {
      to: p.to,
      data: p.data,
      gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    }
    const { raw, hash } = await sign(s, nonce, r)
    const [row] = await t<Row[]>`
      insert into operator_txs (chain_id, genesis, address, nonce, purpose, to_address, data, gas,
        max_fee_per_gas, max_priority_fee_per_gas, raw, tx_hashes, status)
      values (${chainId}, ${genesis}, ${address}, ${nonce}, ${p.purpose}, ${p.to}, ${p.data}, ${gas.toString()},
        ${r.maxFeePerGas.toString()}, ${r.maxPriorityFeePerGas.toString()}, ${raw}, ${[hash]}, 'signed')
      returning id, nonce, tx_hashes, status`
    await t`update operator_nonces set next_nonce = greatest(next_nonce, ${nonce + 1}), updated_at = clock_timestamp()
      where chain_id = ${chainId} and genesis = ${genesis} and address = ${address}`
    return toTx(row!)
  })
  // Rows between the chain's pending nonce and ours were recorded but never reached the node
  // (a process killed before its broadcast): send them first, or ours waits behind the gap.
  if (tx.nonce > pending) await healBelow(s, tx.nonce)
  await p.beforeBroadcast?.()
  // Recorded: a crash from here on leaves a row that `sync` broadcasts again.
  await broadcast(
    s,
    (await sql<{ raw: Hex }[]>`select raw from operator_txs where id = ${tx.id.toString()}`)[0]!
      .raw,
  )
  await sql`update operator_txs set status = 'sent', updated_at = clock_timestamp() where id = ${tx.id.toString()} and status = 'signed'`
  return { ...tx, status: 'sent' }
}
