import { randomUUID } from 'node:crypto'

export type SimulateParameters = {
  api: string
  key: string
  agents: number
  durationSeconds: number
  /** Stops the agents early. */
  signal?: AbortSignal
  /** Called about every 250 ms with the running counts. */
  onProgress?: (s: SimulationStats) => void
}

export type SimulationStats = {
  requests: number
  metered: number
  retries: number
  emptyPolls: number
  refused: number
  /** Answers `429 RATE_LIMITED`: the agent waited as `Retry-After` said and sent the same request again. */
  rateLimited: number
  errors: number
  /** The errors by HTTP status and error code (or the exception's message), e.g. `503 RETRY_LATER`. */
  errorsBy: Record<string, number>
  meteredMicros: bigint
}

// What an agent does, with weights: claim work, save, heartbeat, wind down, poll an empty
// queue (a free check), and now and then retry a write with the same idempotency key.
const mix: Array<[string, number]> = [
  ['claim_issue', 3],
  ['save_comment', 3],
  ['save_issue.edit_status', 2],
  ['heartbeat', 6],
  ['checkpoint', 2],
  ['release_issue', 1],
  ['next_issue', 2],
  ['poll', 3],
]
const totalWeight = mix.reduce((s, [, w]) => s + w, 0)
const pick = () => {
  let r = Math.random() * totalWeight
  for (const [a, w] of mix) {
    r -= w
    if (r < 0) return a
  }
  return 'heartbeat'
}

/**
 * Sends a request the way a well-behaved client does: told it is over its key's rate limit
 * (429, the request not processed), it waits as long as `Retry-After` says and sends the same
 * request again. Returns null instead when the wait would pass `until` or `signal` aborts.
 */
export async function sendPatiently(
  send: () => Promise<Response>,
  p: { until?: number; signal?: AbortSignal; onLimited?: () => void } = {},
): Promise<Response | null> {
  for (;;) {
    const res = await send()
    if (res.status !== 429) return res
    await res.arrayBuffer()
    p.onLimited?.()
    const waitMs = 1000 * (Number(res.headers.get('retry-after')) || 1)
    if (Date.now() + waitMs >= (p.until ?? Number.POSITIVE_INFINITY) || p.signal?.aborted)
      return null
    await new Promise((r) => setTimeout(r, waitMs))
  }
}

/**
 * Simulated agents against the HTTP API: each loops for `durationSeconds`, metering a
 * realistic mix through `POST /v1/usage` (with idempotency keys, one in ten retried),
 * and polling with the free check. Returns what was metered.
 */
export async function simulate(p: SimulateParameters): Promise<SimulationStats> {
  const stats: SimulationStats = {
    requests: 0,
    metered: 0,
    retries: 0,
    emptyPolls: 0,
    refused: 0,
    rateLimited: 0,
    errors: 0,
    // Keyed by what the server answered: no inherited name may count as a key already there.
    errorsBy: Object.create(null),
    meteredMicros: 0n,
  }
  const failed = (what: string) => {
    stats.errors++
    stats.errorsBy[what] = (stats.errorsBy[what] ?? 0) + 1
  }
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${p.key}` }
  const deadline = Date.now() + p.durationSeconds * 1000
  const timer = setInterval(() => p.onProgress?.(stats), 250)
  const patiently = (send: () => Promise<Response>) =>
    sendPatiently(send, {
      until: deadline,
      signal: p.signal,
      onLimited: () => {
        stats.rateLimited++
      },
    })
  const agent = async () => {
    let lease = new Date().toISOString()
    while (Date.now() < deadline && !p.signal?.aborted) {
      const action = pick()
      stats.requests++
      try {
        if (action === 'poll') {
          const res = await patiently(() =>
            fetch(`${p.api}/v1/usage/check`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ action: 'next_issue' }),
            }),
          )
          if (!res) break
          const json = (await res.json()) as { error?: { code: string } }
          if (res.ok) stats.emptyPolls++
          else failed(`${res.status} ${json.error?.code ?? ''}`.trim())
          continue
        }
        const key = randomUUID()
        const body = JSON.stringify({
          action,
          ...(['heartbeat', 'checkpoint', 'release_issue'].includes(action)
            ? { lease_claimed_at: lease }
            : {}),
        })
        const send = () =>
          fetch(`${p.api}/v1/usage`, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': key },
            body,
          })
        const res = await patiently(send)
        if (!res) break
        const json = (await res.json()) as {
          metered?: { price_micros: string }
          error?: { code: string }
        }
        if (res.ok && json.metered) {
          stats.metered++
          stats.meteredMicros += BigInt(json.metered.price_micros)
          if (action === 'claim_issue') lease = new Date().toISOString()
          if (Math.random() < 0.1) {
            // A network blip: the agent retries with the same key and is not charged again.
            stats.retries++
            stats.requests++
            await (await patiently(send))?.arrayBuffer()
          }
        } else if (res.status === 402) stats.refused++
        else failed(`${res.status} ${json.error?.code ?? ''}`.trim())
      } catch (e) {
        failed(e instanceof Error ? e.message : String(e))
      }
    }
  }
  await Promise.all(Array.from({ length: p.agents }, agent))
  clearInterval(timer)
  p.onProgress?.(stats)
  return stats
}
