import { type Abi, encodeFunctionData } from 'viem'
import type { Logger } from '../core/log.js'
import type { Db } from '../db/client.js'
import type { SignerClient } from './clients.js'
import { sendOperatorTx } from './operatorWallet/send.js'
import { syncOperator } from './operatorWallet/sync.js'
import type {
  CreateOperatorWalletParameters,
  OperatorScope,
  OperatorWallet,
} from './operatorWallet/types.js'
import { waitForOperatorTx } from './operatorWallet/waitFor.js'

export type { OperatorTx } from './operatorWallet/types.js'

/**
 * Below this the operator is warned to top up its ETH (0.005 ETH: thousands of batches on Base).
 */
const LOW_ETH_WEI = 5_000_000_000_000_000n

/**
 * The operator's sender: its own nonce counter in Postgres per (chain, address), reconciled
 * with the chain on start; EIP-1559 fees; every transaction signed locally and recorded
 * (nonce, hash, raw bytes) BEFORE it is broadcast, so a process killed at any point leaves a
 * row that the next one finishes — broadcast again, replaced, or found mined. A stuck
 * transaction is replaced with the same calldata and nonce and fees raised by a quarter.
 * Nonces are taken under a row lock, so processes sharing a key never reuse one. The parts
 * live in operatorWallet/: sync, send, waitFor (with replacement), node (sign, broadcast).
 *
 * @example
 * const wallet = await createOperatorWallet({ db, client: operator })
 * const tx = await wallet.sendContract({ address, abi, functionName: 'collectBatch', args: [items], purpose: 'batch:1' })
 * const receipt = await wallet.waitFor(tx, { confirmations: 2 })
 *
 * @internal Production takes the process's one wallet from `operatorWalletFor`; the operator
 * wallet's test builds a second one over the same database, as a restarted worker would.
 */
export async function createOperatorWallet(
  p: CreateOperatorWalletParameters,
): Promise<OperatorWallet> {
  const { db, client, log } = p
  const address = client.account.address
  const chainId = await client.getChainId()
  // A local chain restarted from scratch has the same id and nonces from 0: key by genesis too.
  const genesis = (await client.getBlock({ blockNumber: 0n })).hash
  const scope: OperatorScope = {
    client,
    sql: db.$client,
    log,
    address,
    chainId,
    genesis,
    bump: BigInt(100 + (p.bumpPercent ?? 25)),
  }
  const lowEthWei = p.lowEthWei ?? LOW_ETH_WEI
  let lastFundsCheck = 0

  const wallet: OperatorWallet = {
    address,
    chainId,

    sync: () => syncOperator(scope),

    async send(s) {
      const tx = await sendOperatorTx(scope, s)
      if (Date.now() - lastFundsCheck > 60_000) {
        lastFundsCheck = Date.now()
        await wallet.checkFunds().catch(() => {})
      }
      return tx
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

    waitFor: (tx, w) => waitForOperatorTx(scope, tx, w),

    async checkFunds() {
      const wei = await client.getBalance({ address })
      const low = wei < lowEthWei
      if (low) log?.warn('operator ETH is low', { operator: address, wei: wei.toString() })
      return { wei, low }
    },
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
