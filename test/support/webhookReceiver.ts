import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export type Received = { id: string; headers: IncomingHttpHeaders; body: string; at: number }

/**
 * A real HTTP webhook receiver on a free port: records every request; `status` sets what it
 * answers (503 while "down"), `delayMs` how long it takes.
 */
export async function startReceiver() {
  const received: Received[] = []
  const state = { status: 200, delayMs: 0 }
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const answer = () => {
        received.push({
          id: String(req.headers['webhook-id']),
          headers: req.headers,
          body,
          at: Date.now(),
        })
        res.statusCode = state.status
        res.end()
      }
      if (state.delayMs > 0) setTimeout(answer, state.delayMs)
      else answer()
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    stop: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}

export const waitFor = async (check: () => boolean | Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 25))
  }
}
