import { type AnvilHandle, startAnvil } from '../../src/chain/anvil.js'

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

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
      const snapshot = await rpc<string>(rpcUrl, 'evm_snapshot')
      const from = Number(await rpc<string>(rpcUrl, 'eth_blockNumber'))
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
        const now = Number(await rpc<string>(rpcUrl, 'eth_blockNumber'))
        for (let b = head + 1; b <= now; b++) {
          const block = await rpc<{ transactions: string[] }>(rpcUrl, 'eth_getBlockByNumber', [
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
        raw.push(await rpc<string>(rpcUrl, 'eth_getRawTransactionByHash', [hash]))
      await rpc(rpcUrl, 'evm_revert', [snapshot])
      await rpc(rpcUrl, 'anvil_mine', ['0x2'])
      for (const tx of raw) await rpc(rpcUrl, 'eth_sendRawTransaction', [tx]).catch(() => {})
      return { from, to: head, moved: raw.length }
    },
    stop: () => anvil.stop(),
  }
}
