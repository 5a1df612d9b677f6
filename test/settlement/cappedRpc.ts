import http from 'node:http'
import type { AddressInfo } from 'node:net'

type RpcRequest = { id: number; jsonrpc: '2.0'; method: string; params?: unknown[] }

/**
 * A JSON-RPC endpoint in front of `upstream` that refuses `eth_getLogs` over more than
 * `maxRange` blocks (or with an open end), as hosted providers do, and forwards everything else.
 * `refused` counts the refusals; `widest` is the widest range it served.
 */
export async function cappedRpc(upstream: string, maxRange: bigint) {
  const state = { refused: 0, served: 0, widest: 0n }
  const height = async () => {
    const r = await fetch(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'eth_blockNumber' }),
    })
    return BigInt(((await r.json()) as { result: string }).result)
  }
  const block = async (tag: unknown) =>
    typeof tag === 'string' && tag.startsWith('0x')
      ? BigInt(tag)
      : tag === 'earliest'
        ? 0n
        : await height()
  const answer = async (req: RpcRequest): Promise<unknown> => {
    if (req.method === 'eth_getLogs') {
      const filter = (req.params?.[0] ?? {}) as { fromBlock?: unknown; toBlock?: unknown }
      const width = (await block(filter.toBlock)) - (await block(filter.fromBlock)) + 1n
      if (width > maxRange) {
        state.refused++
        return {
          id: req.id,
          jsonrpc: '2.0',
          error: { code: -32005, message: `block range is too large (max ${maxRange})` },
        }
      }
      state.served++
      if (width > state.widest) state.widest = width
    }
    const r = await fetch(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
    })
    return await r.json()
  }
  const server = http.createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const parsed = JSON.parse(body) as RpcRequest | RpcRequest[]
    const out = Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(out))
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  }
}
