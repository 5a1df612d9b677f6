/** What became of one metered action, as its agent saw it. */
export type Attempted = {
  orgId: string
  key: string
  /** 2xx (first or replayed), a 4xx refusal, or no answer after every try (5xx, reset, timeout). */
  outcome: 'acked' | 'refused' | 'unanswered'
  code?: string
  /** The refusal's message, for the report. */
  message?: string
  tries: number
}

export type SoakOrg = { orgId: string; apiKey: string }

const actions = ['save_comment', 'add_label', 'heartbeat', 'checkpoint', 'next_issue']

/**
 * Agents metering actions through the HTTP API until `signal` aborts: each action has its own
 * idempotency key, sent to a random API process; a 5xx, a reset or a timeout is retried with the
 * same key on another process (up to 8 tries over about 20 s), as a careful client does. Every action's fate
 * is recorded for the checks at the end.
 */
export async function runAgents(p: {
  apis: () => string[]
  orgs: SoakOrg[]
  agentsPerOrg: number
  signal: AbortSignal
}): Promise<Attempted[]> {
  const done: Attempted[] = []
  const agent = async (org: SoakOrg, n: number) => {
    let i = 0
    while (!p.signal.aborted) {
      const key = `soak-${n}-${i++}`
      const action = actions[Math.floor(Math.random() * actions.length)]!
      let tries = 0
      let result: Attempted | undefined
      while (!result && tries < 8) {
        tries++
        const apis = p.apis()
        const api = apis[Math.floor(Math.random() * apis.length)]!
        try {
          const res = await fetch(`${api}/v1/usage`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${org.apiKey}`,
              'idempotency-key': key,
            },
            body: JSON.stringify({ action }),
            signal: AbortSignal.timeout(5000),
          })
          const body = (await res.json().catch(() => ({}))) as {
            error?: { code?: string; message?: string }
          }
          if (res.status < 300) result = { orgId: org.orgId, key, outcome: 'acked', tries }
          else if (res.status < 500 && res.status !== 429)
            result = {
              orgId: org.orgId,
              key,
              outcome: 'refused',
              code: body.error?.code ?? String(res.status),
              message: body.error?.message,
              tries,
            }
        } catch {}
        // Backing off to 4 s: 8 tries span about 20 s, longer than a PostgreSQL restart.
        if (!result)
          await new Promise((r) =>
            setTimeout(r, Math.min(4000, 250 * 2 ** tries) * (0.5 + Math.random())),
          )
      }
      done.push(result ?? { orgId: org.orgId, key, outcome: 'unanswered', tries })
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40))
    }
  }
  await Promise.all(
    p.orgs.flatMap((org, o) =>
      Array.from({ length: p.agentsPerOrg }, (_, a) => agent(org, o * p.agentsPerOrg + a)),
    ),
  )
  return done
}
