import { encodeFunctionData, getAddress } from 'viem'
import { usdcAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import type { X402Context } from './context.js'
import { PaymentPendingError, PaymentRefusedError } from './errors.js'
import { networkOf } from './paymentRequired.js'
import { type Payment, paymentColumns, toPayment } from './paymentRow.js'
import { readPayment, resolvePayment, within } from './resolvePayment.js'
import { type DecodedPayment, verifyPayment } from './verifyPayment.js'

/** A recorded payment as the verifier reads it (to ask again why the token would refuse it). */
function decodedFromRow(p: Payment): DecodedPayment {
  const authorization = {
    from: p.payer,
    to: p.payee,
    value: p.value.toString(),
    validAfter: p.validAfter.toString(),
    validBefore: p.validBefore.toString(),
    nonce: p.nonce,
  }
  return {
    payload: {
      x402Version: 2,
      accepted: {
        scheme: 'exact',
        network: networkOf(p.chainId),
        asset: getAddress(p.token),
        amount: p.value.toString(),
        payTo: getAddress(p.payee),
        maxTimeoutSeconds: 300,
        extra: {},
      },
      payload: { signature: p.signature, authorization },
    },
    payer: getAddress(p.payer),
    payee: getAddress(p.payee),
    value: p.value,
    validAfter: p.validAfter,
    validBefore: p.validBefore,
    nonce: p.nonce,
    signature: p.signature,
    paymentId: p.paymentId ?? undefined,
  }
}

async function setStatus(
  ctx: X402Context,
  id: bigint,
  from: string,
  to: string,
  reason: string | null,
) {
  await ctx.db.$client.unsafe(
    `update x402_payments set status = $3, failure_reason = $4, updated_at = clock_timestamp()
     where id = $1 and status = $2`,
    [id.toString(), from, to, reason],
  )
}

/**
 * Settles a recorded payment through our operator: claims the row (`recorded` → `settling`),
 * sends `transferWithAuthorization` through the operator wallet (which records the signed
 * transaction before broadcasting it, under purpose `x402:<id>`), and waits for the chain.
 * A payment already claimed, or whose wait times out, is resolved from the chain
 * (`resolvePayment`), never sent again. When nothing could be sent: if the token would now
 * refuse the authorization (funds gone, nonce used elsewhere, expired) the payment fails with
 * that reason (402, nothing credited); if the fault is ours (the operator has no gas, the RPC
 * is away) the row goes back to `recorded` and the same header can be presented again (503).
 */
export async function settlePayment(ctx: X402Context, id: bigint): Promise<Payment> {
  if (!ctx.operator) throw new PaymentPendingError('this node has no chain operator to settle with')
  const sql = ctx.db.$client
  const [claimed] = await sql.unsafe(
    `update x402_payments set status = 'settling', updated_at = clock_timestamp()
     where id = $1 and status = 'recorded' returning ${paymentColumns}`,
    [id.toString()],
  )
  if (!claimed) {
    const p = await resolvePayment(ctx, id)
    if (p.status === 'recorded') return settlePayment(ctx, id)
    return p
  }
  const p = toPayment(claimed)
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  const args = [
    getAddress(p.payer),
    getAddress(p.payee),
    p.value,
    p.validAfter,
    p.validBefore,
    p.nonce,
    p.signature,
  ] as const
  let tx: Awaited<ReturnType<typeof wallet.send>>
  try {
    // Estimating turns a revert into an error before anything is recorded; the operator's
    // balance is checked against the estimate so a key without gas records nothing either.
    const gas = await ctx.operator.estimateContractGas({
      account: ctx.operator.account,
      address: ctx.token,
      abi: usdcAbi,
      functionName: 'transferWithAuthorization',
      args,
    })
    const fees = await ctx.operator.estimateFeesPerGas()
    const { wei } = await wallet.checkFunds()
    if (wei < ((gas * 12n) / 10n) * fees.maxFeePerGas)
      throw new PaymentPendingError('the operator cannot pay the gas to settle; retry later', {
        operator: wallet.address,
      })
    tx = await wallet.send({
      to: ctx.token,
      data: encodeFunctionData({ abi: usdcAbi, functionName: 'transferWithAuthorization', args }),
      gas: (gas * 12n) / 10n,
      purpose: `x402:${id}`,
    })
  } catch (e) {
    // Our claim, and the wallet recorded nothing under it: nothing is in flight, release it.
    await sql.unsafe(
      `update x402_payments set status = 'recorded', updated_at = clock_timestamp()
       where id = $1 and status = 'settling'
         and not exists (select from operator_txs where purpose = $2)`,
      [id.toString(), `x402:${id}`],
    )
    const resolved = await resolvePayment(ctx, id)
    // Recorded by the wallet (a broadcast that failed after it): in flight, resumable.
    if (resolved.status !== 'recorded') {
      if (resolved.status === 'settling')
        throw new PaymentPendingError('the payment is in flight', {}, e)
      return resolved
    }
    try {
      await verifyPayment(ctx, decodedFromRow(resolved))
    } catch (refused) {
      if (refused instanceof PaymentRefusedError) {
        await setStatus(ctx, id, 'recorded', 'failed', refused.reason)
        throw refused
      }
      throw refused
    }
    ctx.log?.warn('x402 settle could not be sent', { payment: id.toString(), error: String(e) })
    if (e instanceof PaymentPendingError) throw e
    throw new PaymentPendingError(
      'the payment could not be sent; retry with the same header',
      {},
      e,
    )
  }
  await sql.unsafe(
    `update x402_payments set operator_tx_id = $2, tx_hash = $3, updated_at = clock_timestamp() where id = $1`,
    [id.toString(), tx.id.toString(), tx.hashes.at(-1) ?? null],
  )
  await ctx.onStep?.('sent', id)
  await within(wallet.waitFor(tx), ctx.settleTimeoutMs ?? 30_000, id)
  const done = await resolvePayment(ctx, id)
  if (done.status === 'recorded') {
    // Mined but reverted (someone else's use raced ours, or the payer moved the funds).
    try {
      await verifyPayment(ctx, decodedFromRow(done))
    } catch (refused) {
      if (refused instanceof PaymentRefusedError)
        await setStatus(ctx, id, 'recorded', 'failed', refused.reason)
      throw refused
    }
    throw new PaymentPendingError(
      'the settle transaction did not transfer; retry with the same header',
    )
  }
  return done.status === 'settled' || done.status === 'failed' ? done : readPayment(ctx, id)
}
