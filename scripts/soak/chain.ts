import { type AnvilHandle, startAnvil } from '../../src/chain/anvil.js'
import { anvilRpc } from '../../src/chain/anvilRpc.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The soak's anvil: a block a second (so confirmations keep coming), its state saved after
 * every block (`startAnvil`'s `stateFile`), on one port across restarts.
 */
export async function startSoakChain(stateFile: string) {
  const start = (port?: number) => startAnvil({ port, stateFile, blockTime: 1 })
  let anvil: AnvilHandle = await start()
  const rpcUrl = anvil.rpcUrl
  return {
    rpcUrl,
    /** Stops anvil (its state saved), leaves the chain down for `downMs`, then loads it again. */
    restart: async (downMs: number) => {
      await anvil.stop()
      await sleep(downMs)
      anvil = await start(anvil.port)
    },
    /**
     * A reorg `depth` blocks deep: snapshots the head, waits for `depth` more blocks, reverts
     * to the snapshot and mines two empty blocks (every later block has a new hash), then sends
     * the dropped transactions again — as a sequencer's reorg puts them back — so they land in
     * different blocks. Returns how many transactions it moved.
     */
    reorg: async (depth: number) => {
      const snapshot = await anvilRpc<string>(rpcUrl, 'evm_snapshot')
      const from = Number(await anvilRpc<string>(rpcUrl, 'eth_blockNumber'))
      // The reorg takes at least `depth` blocks and, waiting up to a minute for one, a block
      // with a transaction (a collection, as like as not) followed by `depth` more.
      const giveUp = Date.now() + 60_000
      const hashes: string[] = []
      let head = from
      let lastTx = from
      const waiting = () =>
        head < from + depth ||
        (hashes.length === 0 && Date.now() < giveUp) ||
        (head < lastTx + depth && Date.now() < giveUp + 30_000)
      while (waiting()) {
        await sleep(250)
        const now = Number(await anvilRpc<string>(rpcUrl, 'eth_blockNumber'))
        for (let b = head + 1; b <= now; b++) {
          const block = await anvilRpc<{ transactions: string[] }>(rpcUrl, 'eth_getBlockByNumber', [
            `0x${b.toString(16)}`,
            false,
          ])
          hashes.push(...block.transactions)
          if (block.transactions.length > 0) lastTx = b
        }
        head = now
      }
      const raw: string[] = []
      for (const hash of hashes)
        raw.push(await anvilRpc<string>(rpcUrl, 'eth_getRawTransactionByHash', [hash]))
      await anvilRpc(rpcUrl, 'evm_revert', [snapshot])
      await anvilRpc(rpcUrl, 'anvil_mine', ['0x2'])
      for (const tx of raw) await anvilRpc(rpcUrl, 'eth_sendRawTransaction', [tx]).catch(() => {})
      return { from, to: head, moved: raw.length }
    },
    stop: () => anvil.stop(),
  }
}
