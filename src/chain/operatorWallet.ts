import {
  type Abi,
  type ContractFunctionArgs,
  type ContractFunctionName,
  encodeFunctionData,
  type Hex,
  keccak256,
  TransactionNotFoundError,
  type TransactionReceipt,
} from 'viem'
import type { Db } from '../db/client.js'
import type { Logger } from '../log.js'
import type { SignerClient } from './clients.js'

/**
 * Below this the operator is warned to top up its ETH (0.005 ETH: thousands of batches on Base).
 */
const LOW_ETH_WEI = 5_000_000_000_000_000n

/** An operator transaction as recorded before it is broadcast. */
export type OperatorTx = {
  id: bigint
  nonce: number
  /** Every hash signed for this nonce, oldest first; replacements carry the same calldata. */
  hashes: Hex[]
  status: 'signed' | 'sent' | 'mined' | 'superseded'
}

export type SendParameters = {
  to: `0x${string}`
  data: Hex
  /** Gas limit; estimated (and a revert thrown before anything is recorded) when absent. */
  gas?: bigint
  /** What the transaction is for (e.g. `batch:42`), so recovery can find it. */
  purpose: string
  /** Runs after the transaction is recorded and before it is broadcast (fault tests). */
  beforeBroadcast?: (() => Promise<void> | void) | undefined
}

export type WaitForParameters = {
  /** Blocks on top of the including one before the receipt counts (≥ 1). */
  confirmations?: number
  /** Sign a replacement (same nonce and calldata, fees +25%) when not mined after this long. */
  replaceAfterMs?: number
  /** Called with each replacement hash once it is recorded, before it is broadcast. */
  onReplace?: (hash: Hex) => Promise<void> | void
}

export type OperatorWallet = {
  address: `0x${string}`
  chainId: number
  /**
   * Reconciles the recorded nonces with the chain: rows below the chain's nonce are settled
   * (mined, or superseded when none of their hashes landed), open rows the node has forgotten
   * are broadcast again, and the next nonce is max(recorded, chain pending).
   */
  sync: () => Promise<void>
  /** Records the signed transaction (nonce, hash, raw) and then broadcasts it. */
  send: (p: SendParameters) => Promise<OperatorTx>
  /** Encodes a contract call, estimates its gas (a revert throws, nothing recorded) and sends it. */
  sendContract: <
    const abi extends Abi,
    fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
  >(p: {
    address: `0x${string}`
    abi: abi
    functionName: fn
    args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', fn>
    purpose: string
    beforeBroadcast?: SendParameters['beforeBroadcast']
  }) => Promise<OperatorTx>
  /**
   * Waits until one of the transaction's hashes is mined with `confirmations`, replacing it
   * when stuck. Returns undefined when its nonce was consumed by a transaction we never
   * recorded (nothing of ours landed).
   */
  waitFor: (tx: OperatorTx, p?: WaitForParameters) => Promise<TransactionReceipt | undefined>
  /** The operator's ETH balance; logs a warning when below `lowEthWei`. */
  checkFunds: () => Promise<{ wei: bigint; low: boolean }>
}

export type CreateOperatorWalletParameters = {
  db: Db
  client: SignerClient
  log?: Logger | undefined
  lowEthWei?: bigint
  /** Fee increase of a replacement, in percent (nodes require at least 10). */
  bumpPercent?: number
}

type Row = {
  id: bigint
  nonce: number
  tx_hashes: Hex[]
  raw: Hex
  status: OperatorTx['status']
  to_address: `0x${string}`
  data: Hex
  gas: bigint
  max_fee_per_gas: bigint
  max_priority_fee_per_gas: bigint
}

const toTx = (r: Pick<Row, 'id' | 'nonce' | 'tx_hashes' | 'status'>): OperatorTx => ({
  id: BigInt(r.id),
  nonce: r.nonce,
  hashes: r.tx_hashes,
  status: r.status,
})

/** The largest of some bigints (Math.max does not take them). */
const maxOf = (...v: bigint[]) =>
  v.reduce((a, b) => {
    if (b > a) return b
    return a
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Whether a broadcast error means the node already has (or already mined) this nonce. */
const alreadyHandled = (e: unknown) =>
  /already known|nonce too low|replacement transaction underpriced|known transaction|nonce has already been used/i.test(
    e instanceof Error ? `${e.message} ${(e as { details?: string }).details ?? ''}` : String(e),
  )

/**
 * The operator's sender: its own nonce counter in Postgres per (chain, address), reconciled
 * with the chain on start; EIP-1559 fees; every transaction signed locally and recorded
 * (nonce, hash, raw bytes) BEFORE it is broadcast, so a process killed at any point leaves a
 * row that the next one finishes — broadcast again, replaced, or found mined. A stuck
 * transaction is replaced with the same calldata and nonce and fees raised by a quarter.
 * Nonces are taken under a row lock, so processes sharing a key never reuse one.
 *
 * @example
 * const wallet = await createOperatorWallet({ db, client: operator })
 * const tx = await wallet.sendContract({ address, abi, functionName: 'collectBatch', args: [items], purpose: 'batch:1' })
 * const receipt = await wallet.waitFor(tx, { confirmations: 2 })
 */
export async function createOperatorWallet(
  p: CreateOperatorWalletParameters,
): Promise<OperatorWallet> {
  const { db, client, log } = p
  const sql = db.$client
  const address = client.account.address
  const chainId = await client.getChainId()
  // A local chain restarted from scratch has the same id and nonces from 0: key by genesis too.
  const genesis = (await client.getBlock({ blockNumber: 0n })).hash
  const bump = BigInt(100 + (p.bumpPercent ?? 25))
  const lowEthWei = p.lowEthWei ?? LOW_ETH_WEI
  let lastFundsCheck = 0

  const chainNonce = (blockTag: 'latest' | 'pending') =>
    client.getTransactionCount({ address, blockTag })

  async function sign(
    nonce: number,
    r: {
      to: `0x${string}`
      data: Hex
      gas: bigint
      maxFeePerGas: bigint
      maxPriorityFeePerGas: bigint
    },
  ) {
    const raw = await client.account.signTransaction!({
      type: 'eip1559',
      chainId,
      nonce,
      to: r.to,
      data: r.data,
      gas: r.gas,
      maxFeePerGas: r.maxFeePerGas,
      maxPriorityFeePerGas: r.maxPriorityFeePerGas,
      value: 0n,
    })
    return { raw, hash: keccak256(raw) }
  }

  async function broadcast(raw: Hex) {
    try {
      await client.sendRawTransaction({ serializedTransaction: raw })
    } catch (e) {
      if (!alreadyHandled(e)) throw e
    }
  }

  async function receiptOf(hashes: Hex[]) {
    for (const h of hashes) {
      const r = await client.getTransactionReceipt({ hash: h }).catch(() => undefined)
      if (r) return r
    }
    return undefined
  }

  /**
   * Whether the node knows none of these hashes as mined — the only proof that a used nonce went
   * to a transaction we never recorded. A node that does not answer proves nothing.
   */
  async function noneLanded(hashes: Hex[]) {
    for (const h of hashes) {
      try {
        if ((await client.getTransaction({ hash: h })).blockNumber !== null) return false
      } catch (e) {
        if (!(e instanceof TransactionNotFoundError)) return false
      }
    }
    return true
  }

  async function settleBelow(latest: number) {
    const open = await sql<Row[]>`
      select id, nonce, tx_hashes, raw, status from operator_txs
      where chain_id = ${chainId} and genesis = ${genesis} and address = ${address} and status in ('signed', 'sent') and nonce < ${latest}
      order by nonce`
    for (const row of open) {
      const r = await receiptOf(row.tx_hashes)
      await sql`update operator_txs set status = ${r ? 'mined' : 'superseded'}, mined_hash = ${r?.transactionHash ?? null},
        updated_at = clock_timestamp() where id = ${row.id.toString()}`
    }
  }

  const wallet: OperatorWallet = {
    address,
    chainId,

    async sync() {
      const [latest, pending] = await Promise.all([chainNonce('latest'), chainNonce('pending')])
      await settleBelow(latest)
      const open = await sql<Row[]>`
        select id, nonce, tx_hashes, raw, status from operator_txs
        where chain_id = ${chainId} and genesis = ${genesis} and address = ${address} and status in ('signed', 'sent')
        order by nonce`
      for (const row of open) {
        const known = await client
          .getTransaction({ hash: row.tx_hashes.at(-1)! })
          .catch(() => undefined)
        if (!known) {
          log?.info('operator transaction broadcast again', { nonce: row.nonce, purpose: 'sync' })
          await broadcast(row.raw)
        }
        if (row.status === 'signed')
          await sql`update operator_txs set status = 'sent', updated_at = clock_timestamp() where id = ${row.id.toString()} and status = 'signed'`
      }
      const next = Math.max(pending, ...open.map((r) => r.nonce + 1))
      await sql`
        insert into operator_nonces (chain_id, genesis, address, next_nonce) values (${chainId}, ${genesis}, ${address}, ${next})
        on conflict (chain_id, genesis, address) do update
          set next_nonce = greatest(operator_nonces.next_nonce, excluded.next_nonce), updated_at = clock_timestamp()`
    },

    async send(s) {
      const gas =
        s.gas ?? (await client.estimateGas({ account: client.account, to: s.to, data: s.data }))
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
        pending = await chainNonce('pending')
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
          to: s.to,
          data: s.data,
          gas,
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        }
        const { raw, hash } = await sign(nonce, r)
        const [row] = await t<Row[]>`
          insert into operator_txs (chain_id, genesis, address, nonce, purpose, to_address, data, gas,
            max_fee_per_gas, max_priority_fee_per_gas, raw, tx_hashes, status)
          values (${chainId}, ${genesis}, ${address}, ${nonce}, ${s.purpose}, ${s.to}, ${s.data}, ${gas.toString()},
            ${r.maxFeePerGas.toString()}, ${r.maxPriorityFeePerGas.toString()}, ${raw}, ${[hash]}, 'signed')
          returning id, nonce, tx_hashes, status`
        await t`update operator_nonces set next_nonce = greatest(next_nonce, ${nonce + 1}), updated_at = clock_timestamp()
          where chain_id = ${chainId} and genesis = ${genesis} and address = ${address}`
        return toTx(row!)
      })
      // Rows between the chain's pending nonce and ours were recorded but never reached the node
      // (a process killed before its broadcast): send them first, or ours waits behind the gap.
      if (tx.nonce > pending) await healBelow(tx.nonce)
      await s.beforeBroadcast?.()
      // Recorded: a crash from here on leaves a row that `sync` broadcasts again.
      await broadcast(
        (await sql<{ raw: Hex }[]>`select raw from operator_txs where id = ${tx.id.toString()}`)[0]!
          .raw,
      )
      await sql`update operator_txs set status = 'sent', updated_at = clock_timestamp() where id = ${tx.id.toString()} and status = 'signed'`
      if (Date.now() - lastFundsCheck > 60_000) {
        lastFundsCheck = Date.now()
        await wallet.checkFunds().catch(() => {})
      }
      return { ...tx, status: 'sent' }
    },

    async sendContract(c) {
      const data = encodeFunctionData({
        abi: c.abi as Abi,
        functionName: c.functionName as string,
        args: c.args as readonly unknown[],
      })
      // Estimating through the ABI turns a revert into a decoded ContractFunctionExecutionError.
      const gas = await client.estimateContractGas({
        account: client.account,
        address: c.address,
        abi: c.abi as Abi,
        functionName: c.functionName as string,
        args: c.args as readonly unknown[],
      })
      return await wallet.send({
        to: c.address,
        data,
        gas: (gas * 12n) / 10n,
        purpose: c.purpose,
        beforeBroadcast: c.beforeBroadcast,
      })
    },

    async waitFor(tx, w = {}) {
      const confirmations = Math.max(1, w.confirmations ?? 1)
      const every = w.replaceAfterMs ?? 60_000
      let hashes = [...tx.hashes]
      let next = Date.now() + every
      let healAt = Date.now() + 2_000
      for (;;) {
        const found = await receiptOf(hashes)
        if (found) {
          const receipt =
            confirmations > 1
              ? await client.waitForTransactionReceipt({
                  hash: found.transactionHash,
                  confirmations,
                })
              : found
          await sql`update operator_txs set status = 'mined', mined_hash = ${receipt.transactionHash},
            updated_at = clock_timestamp() where id = ${tx.id.toString()}`
          return receipt
        }
        if ((await chainNonce('latest')) > tx.nonce) {
          // The nonce is used: by one of our hashes (its receipt not served yet) or by a
          // transaction we never made. Only the node saying it mined none of ours decides.
          await sleep(250)
          if ((await receiptOf(hashes)) || !(await noneLanded(hashes))) continue
          // Another row of ours at this nonce would be a bug in taking nonces: name it.
          const others = await sql<{ id: bigint; purpose: string }[]>`
            select id, purpose from operator_txs where chain_id = ${chainId} and genesis = ${genesis}
              and address = ${address} and nonce = ${tx.nonce} and id <> ${tx.id.toString()}`
          log?.warn('operator nonce used by another transaction', {
            nonce: tx.nonce,
            hashes,
            recorded: others.map((o) => `${o.id}:${o.purpose}`),
          })
          await sql`update operator_txs set status = 'superseded', updated_at = clock_timestamp() where id = ${tx.id.toString()}`
          return undefined
        }
        if (Date.now() >= healAt) {
          await healBelow(tx.nonce)
          healAt = Date.now() + 2_000
        }
        if (Date.now() >= next) {
          hashes = await replace(tx.id, w.onReplace)
          next = Date.now() + every
        }
        await sleep(250)
      }
    },

    async checkFunds() {
      const wei = await client.getBalance({ address })
      const low = wei < lowEthWei
      if (low) log?.warn('operator ETH is low', { operator: address, wei: wei.toString() })
      return { wei, low }
    },
  }

  /** Broadcasts again every open row below `nonce` that the node does not know. */
  async function healBelow(nonce: number) {
    const rows = await sql<Row[]>`
      select id, nonce, tx_hashes, raw, status from operator_txs
      where chain_id = ${chainId} and genesis = ${genesis} and address = ${address}
        and status in ('signed', 'sent') and nonce < ${nonce}
      order by nonce`
    for (const row of rows) {
      const known = await client
        .getTransaction({ hash: row.tx_hashes.at(-1)! })
        .catch(() => undefined)
      if (known) continue
      log?.info('operator transaction broadcast again', { nonce: row.nonce })
      await broadcast(row.raw)
    }
  }

  /** Signs the same calldata at the same nonce with fees raised by `bumpPercent`, records it, broadcasts. */
  async function replace(id: bigint, onReplace?: (hash: Hex) => Promise<void> | void) {
    const [row] = await sql<Row[]>`select * from operator_txs where id = ${id.toString()}`
    const fees = await client.estimateFeesPerGas()
    const up = (v: bigint) => (v * bump) / 100n + 1n
    const maxPriorityFeePerGas = maxOf(up(row!.max_priority_fee_per_gas), fees.maxPriorityFeePerGas)
    const maxFeePerGas = maxOf(up(row!.max_fee_per_gas), fees.maxFeePerGas, maxPriorityFeePerGas)
    const { raw, hash } = await sign(row!.nonce, {
      to: row!.to_address,
      data: row!.data,
      gas: BigInt(row!.gas),
      maxFeePerGas,
      maxPriorityFeePerGas,
    })
    const [updated] = await sql<Row[]>`
      update operator_txs set raw = ${raw}, tx_hashes = array_append(tx_hashes, ${hash}),
        max_fee_per_gas = ${maxFeePerGas.toString()}, max_priority_fee_per_gas = ${maxPriorityFeePerGas.toString()},
        updated_at = clock_timestamp()
      where id = ${id.toString()} returning tx_hashes`
    await onReplace?.(hash)
    log?.warn('operator transaction replaced', {
      nonce: row!.nonce,
      purpose: (row as unknown as { purpose: string }).purpose,
      replaced: row!.tx_hashes.at(-1),
      by: hash,
    })
    await broadcast(raw)
    return updated!.tx_hashes
  }

  return wallet
}

const wallets = new WeakMap<Db, Map<string, Promise<OperatorWallet>>>()

/**
 * The process's one wallet per (database, operator key, node): created and synced with the
 * chain on first use, so a restarted worker first finishes what the previous process recorded.
 */
export function operatorWalletFor(
  db: Db,
  client: SignerClient,
  log?: Logger,
): Promise<OperatorWallet> {
  let byDb = wallets.get(db)
  if (!byDb) {
    byDb = new Map()
    wallets.set(db, byDb)
  }
  const key = `${client.account.address}:${client.transport.url ?? ''}`
  let w = byDb.get(key)
  if (!w) {
    const created = createOperatorWallet({ db, client, log }).then(async (x) => {
      await x.sync()
      return x
    })
    created.catch(() => byDb.delete(key))
    byDb.set(key, created)
    w = created
  }
  return w
}
