import type { Chain, PublicActions, Transport } from 'viem'
import type { Deployment } from '../chain/deployment.js'
import { findReceipt } from '../chain/findReceipt.js'
import type { Db } from '../db/client.js'

/** The chain reads reconcile and the rollback check need: no key, nothing sent. */
export type ChainReader = Pick<
  PublicActions<Transport, Chain>,
  'getBlock' | 'getBlockNumber' | 'getTransactionReceipt' | 'readContract'
>

/** What says the chain is behind the ledger, and the one sentence that says so. */
export type ChainRollback = {
  message: string
  /** The block the indexer read last, as the ledger recorded it and as the chain has it now. */
  cursor?: { block: bigint; ledgerHash: string; chainHash: string | null; chainHead: bigint }
  /** The ledger's latest collected charge whose transaction the chain no longer has. */
  charge?: { id: string; txHash: string }
}

const advice =
  'a reorg deeper than the confirmation depth, or a chain restored from an older state; collected charges recorded since may not be on the chain (`tollgate reconcile` names them)'

/**
 * Whether the chain went back behind what the ledger already took as final, in two cheap
 * reads: the block the indexer last read (it only reads confirmed blocks) must still be on the
 * chain with the hash it had, and the transaction of the latest collected charge must still be
 * on the chain. A chain only ever loses a suffix, so if the latest collection survived, every
 * earlier one did. Returns undefined when the chain agrees with the ledger.
 */
export async function detectChainRollback(ctx: {
  db: Db
  client: ChainReader
  deployment: Deployment
}): Promise<ChainRollback | undefined> {
  const chainId = ctx.deployment.chainId
  const [cursor] = await ctx.db.$client<{ block_number: bigint; block_hash: string }[]>`
    select block_number, block_hash from chain_cursors where chain_id = ${chainId}`
  if (cursor) {
    const head = await ctx.client.getBlockNumber({ cacheTime: 0 })
    const block =
      cursor.block_number <= head
        ? await ctx.client.getBlock({ blockNumber: cursor.block_number })
        : undefined
    if (block?.hash !== cursor.block_hash) {
      const what = block
        ? `block ${cursor.block_number} has another hash on the chain than the one the ledger indexed`
        : `the ledger indexed chain ${chainId} up to block ${cursor.block_number}, but the chain's head is block ${head}`
      return {
        message: `The chain is behind the ledger: ${what} — ${advice}.`,
        cursor: {
          block: cursor.block_number,
          ledgerHash: cursor.block_hash,
          chainHash: block?.hash ?? null,
          chainHead: head,
        },
      }
    }
  }
  const [last] = await ctx.db.$client<{ id: bigint; tx_hash: string }[]>`
    select id, tx_hash from charges where status = 'collected' and tx_hash is not null
    order by id desc limit 1`
  if (last) {
    if (!(await findReceipt(ctx.client, last.tx_hash)))
      return {
        message: `The chain is behind the ledger: charge ${last.id} was collected in ${last.tx_hash}, which chain ${chainId} does not have — ${advice}.`,
        charge: { id: last.id.toString(), txHash: last.tx_hash },
      }
  }
  return undefined
}
