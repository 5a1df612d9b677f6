/**
 * Runs `send` for one sender address at a time in this process. Each send reads the pending
 * nonce from the node (no cached counter that a restart or another process could leave stale),
 * so sends from one key must not interleave between reading the nonce and broadcasting.
 */
const tails = new Map<string, Promise<unknown>>()

export async function serializeSends<T>(address: string, send: () => Promise<T>): Promise<T> {
  const key = address.toLowerCase()
  const previous = tails.get(key) ?? Promise.resolve()
  const run = previous.then(send, send)
  const tail = run.catch(() => {})
  tails.set(key, tail)
  try {
    return await run
  } finally {
    if (tails.get(key) === tail) tails.delete(key)
  }
}
