import type { App } from './children.js'

export type ChaosCounts = {
  kills: number
  pgRestarts: number
  chainRestarts: number
  reorgs: number
  drops: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!

/**
 * The chaos controller: until `signal` aborts, every 2–8 s one fault at random — SIGKILL an
 * API process or a worker (started again after 0.2–2 s), or reset every connection through the
 * database proxy — and, at fixed points of the run, a PostgreSQL restart (at 25% and 60%), an
 * anvil stop and start (35% and 75%) and one reorg deeper than the confirmations (50%).
 * A fault that fails is logged and counted as not done; the run goes on.
 */
export async function runChaos(p: {
  apis: App[]
  workers: App[]
  dropConnections: () => number
  restartPostgres: () => Promise<void>
  restartChain: () => Promise<void>
  reorg: () => Promise<string>
  durationMs: number
  signal: AbortSignal
  say: (line: string) => void
}): Promise<ChaosCounts> {
  const counts: ChaosCounts = { kills: 0, pgRestarts: 0, chainRestarts: 0, reorgs: 0, drops: 0 }
  const started = Date.now()
  const restartPostgres = async () => {
    await p.restartPostgres()
    counts.pgRestarts++
  }
  const restartChain = async () => {
    await p.restartChain()
    counts.chainRestarts++
  }
  const reorg = async () => {
    p.say(await p.reorg())
    counts.reorgs++
  }
  const scheduled = [
    { at: 0.25, run: restartPostgres },
    { at: 0.35, run: restartChain },
    { at: 0.5, run: reorg },
    { at: 0.6, run: restartPostgres },
    { at: 0.75, run: restartChain },
  ].map((s) => ({ at: s.at * p.durationMs, run: s.run }))
  const pending: Promise<void>[] = []
  while (!p.signal.aborted) {
    await sleep(2000 + Math.random() * 6000)
    if (p.signal.aborted) break
    const elapsed = Date.now() - started
    const due = scheduled.findIndex((s) => s.at <= elapsed)
    const at = `${(elapsed / 1000).toFixed(0)}s`
    try {
      if (due >= 0) {
        const [s] = scheduled.splice(due, 1)
        p.say(`chaos ${at}: scheduled fault`)
        await s!.run()
        continue
      }
      const r = Math.random()
      const up = (r < 0.5 ? p.apis : p.workers).filter((a) => a.up())
      if (r < 0.75 && up.length > 0) {
        const app = pick(up)
        p.say(`chaos ${at}: SIGKILL ${app.name} (pid ${app.pid()})`)
        counts.kills++
        pending.push(app.kill(200 + Math.random() * 1800))
      } else {
        counts.drops++
        p.say(`chaos ${at}: dropped ${p.dropConnections()} database connections`)
      }
    } catch (error) {
      p.say(`chaos ${at}: fault failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  await Promise.all(pending)
  return counts
}
