import { getAddress, type Hex, isAddressEqual, parseEventLogs } from 'viem'
import { usdcAbi } from '../chain/abis.js'
import { getLogsInRanges } from '../chain/getLogsInRanges.js'
import { type OperatorTx, operatorWalletFor } from '../chain/operatorWallet.js'
import type { X402Context } from './context.js'
import { PaymentPendingError } from './errors.js'
import { type Payment, paymentColumns, toPayment } from './paymentRow.js'

/** How old a `settling` claim with no transaction recorded must be to count as dead. */
const DEAD_CLAIM_SECONDS = 30

/** Reads one payment row. */
export async function readPayment(ctx: Pick<X402Context, 'db'>, id: bigint): Promise<Payment> {
  const [row] = await ctx.db.$client.unsafe(
    `select ${paymentColumns} from x402_payments where id = $1`,
    [id.toString()],
  )
  if (!row) throw new Error(`no x402 payment ${id}`)
  return toPayment(row)
}

/** The operator's open transaction for this payment, if one is recorded and not yet final. */
async function openOperatorTx(ctx: X402Context, id: bigint): Promise<OperatorTx | undefined> {
  const [r] = await ctx.db.$client<
    { id: string; nonce: number; tx_hashes: Hex[]; status: OperatorTx['status'] }[]
  >`select id, nonce, tx_hashes, status from operator_txs
    where purpose = ${`x402:${id}`} and status in ('signed', 'sent') order by id desc limit 1`
  return r ? { id: BigInt(r.id), nonce: r.nonce, hashes: r.tx_hashes, status: r.status } : undefined
}

/** Waits for `p`, or throws `PaymentPendingError` after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, id: bigint): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PaymentPendingError('the payment is being settled; retry with the same header', {
            payment: id.toString(),
          }),
        ),
      ms,
    )
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Settles a payment's row from the chain alone, never by sending: if the token says the
 * authorization is used, its `AuthorizationUsed` log gives the transaction, whose `Transfer`
 * from the payer to the payee of the value makes it `settled`. If unused, an operator
 * transaction still in flight is waited for (up to the settle timeout); none in flight puts a
 * `settling` row back to `recorded` (a claim whose process died), or `failed` once the
 * authorization has expired. So a settle that timed out or crashed is resolved without ever
 * sending twice.
 */
export async function resolvePayment(ctx: X402Context, id: bigint): Promise<Payment> {
  const sql = ctx.db.$client
  const p = await readPayment(ctx, id)
  if (p.status === 'settled' || p.status === 'failed') return p
  const used = await ctx.reader.readContract({
    address: ctx.token,
    abi: usdcAbi,
    functionName: 'authorizationState',
    args: [getAddress(p.payer), p.nonce],
  })
  if (used) {
    const logs = await getLogsInRanges(ctx.reader, {
      fromBlock: p.recordedBlock > 16n ? p.recordedBlock - 16n : 0n,
      direction: 'forward',
      read: (r) =>
        ctx.reader.getContractEvents({
          address: ctx.token,
          abi: usdcAbi,
          eventName: 'AuthorizationUsed',
          args: { authorizer: getAddress(p.payer), nonce: p.nonce },
          ...r,
        }),
      stop: (found) => found.length > 0,
    })
    const log = logs[0]
    if (!log)
      throw new PaymentPendingError('the authorization is used but its log is not served yet')
    const receipt = await ctx.reader.getTransactionReceipt({ hash: log.transactionHash })
    const transfer = parseEventLogs({
      abi: usdcAbi,
      eventName: 'Transfer',
      logs: receipt.logs,
    }).find(
      (t) =>
        isAddressEqual(t.address, ctx.token) &&
        isAddressEqual(t.args.from, p.payer) &&
        isAddressEqual(t.args.to, p.payee) &&
        t.args.value === p.value,
    )
    const [row] = await sql.unsafe(
      `update x402_payments set status = $2, tx_hash = $3, block_number = $4, failure_reason = $5,
         updated_at = clock_timestamp()
       where id = $1 and status in ('recorded', 'settling') returning ${paymentColumns}`,
      [
        id.toString(),
        transfer ? 'settled' : 'failed',
        receipt.transactionHash,
        receipt.blockNumber.toString(),
        transfer ? null : 'settle_failed',
      ],
    )
    if (row && transfer) await ctx.onStep?.('settled', id)
    return row ? toPayment(row) : readPayment(ctx, id)
  }
  const open = await openOperatorTx(ctx, id)
  if (open && ctx.operator) {
    const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
    // Broadcasts again what a dead process recorded but never sent.
    await wallet.sync()
    await within(wallet.waitFor(open), ctx.settleTimeoutMs ?? 30_000, id)
    return resolvePayment(ctx, id)
  }
  if (open) throw new PaymentPendingError('the payment is in flight; retry with the same header')
  const expired = p.validBefore <= BigInt(Math.floor(Date.now() / 1000))
  // A `settling` claim with nothing recorded is a process that died before sending, once it is
  // older than any send takes; a younger one is a settle still under way in another request.
  const [row] = await sql.unsafe(
    `update x402_payments set status = $2, failure_reason = $3, updated_at = clock_timestamp()
     where id = $1 and (status = 'recorded'
       or (status = 'settling' and updated_at <= clock_timestamp() - make_interval(secs => $4)))
     returning ${paymentColumns}`,
    [
      id.toString(),
      expired ? 'failed' : 'recorded',
      expired ? 'expired' : p.failureReason,
      ctx.deadClaimSeconds ?? DEAD_CLAIM_SECONDS,
    ],
  )
  if (row) return toPayment(row)
  const now = await readPayment(ctx, id)
  if (now.status === 'settling')
    throw new PaymentPendingError('the payment is being settled; retry with the same header')
  return now
}
