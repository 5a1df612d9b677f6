import { spawn } from 'node:child_process'
import { expect, test } from 'vitest'

// The chaos soak as CI runs it, for two minutes (`npm run soak -- --minutes 2`): processes
// killed, PostgreSQL and anvil restarted, a deep reorg, connections dropped; then nothing an
// agent was told is lost, nothing is charged twice, and the ledger matches the chain.
test('the 2-minute chaos soak loses nothing, doubles nothing and reconciles to the micro-credit', async () => {
  const child = spawn('node', ['--import', 'tsx', 'scripts/soak/soak.ts', '--minutes', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((ok) => child.on('exit', ok))
  const last = out.trim().split('\n').at(-1) ?? ''
  const m =
    /^soak: minutes=2 acked=(\d+) lost=(\d+) doubled=(\d+) kills=(\d+) pg_restarts=(\d+) chain_restarts=(\d+) reconcile_diff_micros=(\d+)$/.exec(
      last,
    )
  expect(m, out).not.toBeNull()
  const [acked, lost, doubled, kills, pgRestarts, chainRestarts, diff] = m!.slice(1).map(Number)
  expect({ lost, doubled, diff }, out).toEqual({ lost: 0, doubled: 0, diff: 0 })
  expect(acked).toBeGreaterThan(0)
  expect(kills).toBeGreaterThan(0)
  expect(pgRestarts).toBeGreaterThanOrEqual(1)
  expect(chainRestarts).toBeGreaterThanOrEqual(1)
  // Every other check (seq collected once, nothing stuck, `tollgate reconcile` ok, every
  // metric family scraped) fails the run with exit 1 and a FAIL line.
  expect(code, out).toBe(0)
}, 1_200_000)
