import { ContractFunctionExecutionError, type Hex, isAddressEqual } from 'viem'
import { usdcAbi } from '../chain/abis.js'
import type { SignerClient } from '../chain/clients.js'
import type { Deployment } from '../chain/deployment.js'
import { type OperatorTx, operatorWalletFor } from '../chain/operatorWallet.js'
import { ConfigError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import type { Db } from '../db/client.js'
import { recordRefundPaid, recordRefundPayoutFailed, startRefundPayout } from '../ledger/index.js'

export type PayRefundContext = {
  db: Db
  /** The payee wallet's signer: the refund is an ordinary USDC transfer from it. */
  payee: SignerClient
  deployment: Deployment
  confirmations: number
  log?: Logger | undefined
  /** Runs after the transfer is recorded and before it is broadcast (crash tests). */
  beforeBroadcast?: (() => void | Promise<void>) | undefined
  /**
   * Runs after each durable step (crash tests): `intent` recorded on the refund, the transfer
   * `sent`, its `receipt` read (before the refund is recorded paid).
   */
  onStep?: ((step: 'intent' | 'sent' | 'receipt') => void | Promise<void>) | undefined
}

export type PayRefundReturnType =
  | { status: 'nothing_owed' }
  | { status: 'paid'; txHash: Hex; amount: bigint; to: `0x${string}`; replayed: boolean }
  | { status: 'failed'; reason: string }

/**
 * Pays back on-chain what a refund could not net (the subscription ended): a USDC `transfer`
 * from the payee wallet to the owner. The intent (amount, address) is recorded on the refund
 * first, the transaction is recorded before it is broadcast (the operator wallet's machinery,
 * purpose `refund:<id>`), and a retry — the same key, after a crash or not — finishes the
 * recorded transaction instead of signing a second one. Mined, the ledger's `refund` entry takes
 * it off what was collected, once; `reconcile` matches it to the token's `Transfer`.
 *
 * @example
 * const paid = await payRefundOnchain(ctx, { orgId, idempotencyKey: 'refund-7' })
 */
export async function payRefundOnchain(
  ctx: PayRefundContext,
  p: { orgId: string; idempotencyKey: string },
): Promise<PayRefundReturnType> {
  // Another wallet's transfer would be money the payee never gave back, and reconcile could not
  // match it: refused before anything is recorded.
  if (!isAddressEqual(ctx.payee.account.address, ctx.deployment.payee))
    throw new ConfigError(
      `PAYEE_KEY is the key of ${ctx.payee.account.address}, not of the payee ${ctx.deployment.payee}`,
      { signer: ctx.payee.account.address, payee: ctx.deployment.payee },
    )
  const payout = await startRefundPayout(ctx.db, p)
  if (payout.amount === 0n) return { status: 'nothing_owed' }
  const to = payout.to!
  if (payout.status === 'paid')
    return {
      status: 'paid',
      txHash: payout.txHash as Hex,
      amount: payout.amount,
      to,
      replayed: true,
    }
  await ctx.onStep?.('intent')
  const wallet = await operatorWalletFor(ctx.db, ctx.payee, ctx.log)
  const purpose = `refund:${payout.refundId}`
  // Recorded before (a crash, a retry): finish that transaction — never a second transfer. One
  // that provably never landed (superseded), or failed, may be sent again.
  const [prior] = !payout.resumed
    ? []
    : await ctx.db.$client<
        { id: bigint; nonce: number; tx_hashes: Hex[]; status: OperatorTx['status'] }[]
      >`
    select id, nonce, tx_hashes, status from operator_txs
    where purpose = ${purpose} and address = ${wallet.address} and status in ('signed', 'sent', 'mined')
    order by id desc limit 1`
  let tx: OperatorTx
  if (prior)
    tx = { id: prior.id, nonce: prior.nonce, hashes: prior.tx_hashes, status: prior.status }
  else {
    try {
      tx = await wallet.sendContract({
        address: ctx.deployment.usdc,
        abi: usdcAbi,
        functionName: 'transfer',
        args: [to, payout.amount],
        purpose,
        beforeBroadcast: ctx.beforeBroadcast,
      })
    } catch (error) {
      // Refused before anything was recorded (the payee is short, blacklisted): nothing in flight.
      if (!(error instanceof ContractFunctionExecutionError)) throw error
      const reason = error.shortMessage
      await recordRefundPayoutFailed(ctx.db, { refundId: payout.refundId, reason })
      return { status: 'failed', reason }
    }
  }
  await ctx.onStep?.('sent')
  const receipt = await wallet.waitFor(tx, { confirmations: ctx.confirmations })
  if (receipt?.status !== 'success') {
    const reason = receipt ? 'reverted' : 'nonce taken by another transaction'
    await recordRefundPayoutFailed(ctx.db, { refundId: payout.refundId, reason })
    return { status: 'failed', reason }
  }
  await ctx.onStep?.('receipt')
  const block = await ctx.payee.getBlock({ blockNumber: receipt.blockNumber })
  await recordRefundPaid(ctx.db, {
    refundId: payout.refundId,
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockTime: new Date(Number(block.timestamp) * 1000),
    chainId: ctx.payee.chain.id,
  })
  return {
    status: 'paid',
    txHash: receipt.transactionHash,
    amount: payout.amount,
    to,
    replayed: false,
  }
}
