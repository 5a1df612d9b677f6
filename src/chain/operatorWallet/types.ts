import type { Abi, ContractFunctionArgs, ContractFunctionName, Hex, TransactionReceipt } from 'viem'
import type { Logger } from '../../core/log.js'
import type { Db } from '../../db/client.js'
import type { SignerClient } from '../clients.js'

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

/** What every part of one wallet shares: the key, the node, the chain, the records. */
export type OperatorScope = {
  client: SignerClient
  sql: Db['$client']
  log?: Logger | undefined
  address: `0x${string}`
  chainId: number
  /** The chain's genesis hash: a local chain restarted from scratch is another chain. */
  genesis: Hex
  /** 100 + the replacement's fee increase in percent. */
  bump: bigint
}

/** An operator_txs row. */
export type Row = {
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

export const toTx = (r: Pick<Row, 'id' | 'nonce' | 'tx_hashes' | 'status'>): OperatorTx => ({
  id: BigInt(r.id),
  nonce: r.nonce,
  hashes: r.tx_hashes,
  status: r.status,
})
