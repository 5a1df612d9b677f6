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
    errors: 0,
    errorsBy: {},
    meteredMicros: 0n,
  }
  const failed = (what: string) => {
    stats.errors++
    stats.errorsBy[what] = (stats.errorsBy[what] ?? 0) + 1
  }
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${p.key}` }
  const deadline = Date.now() + p.durationSeconds * 1000
  const timer = setInterval(() => p.onProgress?.(stats), 250)
  const agent = async () => {
    let lease = new Date().toISOString()
    while (Date.now() < deadline && !p.signal?.aborted) {
      const action = pick()
      stats.requests++
      try {
        if (action === 'poll') {
          const res = await fetch(`${p.api}/v1/usage/check`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ action: 'next_issue' }),
          })
          await res.arrayBuffer()
          stats.emptyPolls++
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
        const res = await send()
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
            await (await send()).arrayBuffer()
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
