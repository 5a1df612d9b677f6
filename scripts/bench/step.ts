// bench:step — what one metering step costs, against the durable write it guards, in one run
// against the same PostgreSQL. The baseline is the reference API's own write for save_comment
// (`addComment`: one insert, committed on its own); the step is the meter's (`meter.meter`: a
// group commit of usage rows, ledger entries and accounts). Both run with 1, 4, 16 and 64
// callers in flight over 1,000 orgs, in rounds that alternate which goes first, and report the
// CPU per action of this process and of PostgreSQL's backends: figures a shared two-core
// machine disturbs far less than rates. One caller in flight is a lightly loaded API, where
// every batch holds one action and pays a transaction's fixed costs alone; more callers show
// what group commit shares out.
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../../src/config/index.js'
import { createMeter } from '../../src/ledger/index.js'
import { addComment } from '../../src/queue/queue.js'
import { benchDatabase, cpuClock, makeOrgs, median, meterKnobs } from './benchDb.js'

const LEVELS = [1, 4, 16, 64]
const ACTIONS = Number(process.env.BENCH_ACTIONS ?? 2_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const config = loadConfig({})

const bench = await benchDatabase('step', 16)
const { db } = bench
try {
  console.log(
    `bench:step — ${ACTIONS} actions a run, callers in flight ${LEVELS.join(', ')}, ${ROUNDS} rounds, PostgreSQL ${(await db.$client`show server_version`)[0]!.server_version}`,
  )
  const orgs = await makeOrgs(db, 1_000, 10_000_000_000n)
  const issues = new Map(orgs.map((o) => [o, randomUUID()]))
  await db.$client`analyze`
  const meter = createMeter(db, {
    rateCard: config.rateCard,
    product: config.product,
    ...meterKnobs(),
  })

  const paths = {
    meter: (orgId: string) => meter.meter({ orgId, action: 'save_comment' }),
    insert: (orgId: string) =>
      addComment(db.$client, orgId, issues.get(orgId)!, 'progress note from the bench'),
  }
  type Path = keyof typeof paths
  const run = async (path: Path, callers: number) => {
    const call = paths[path]
    let next = 0
    const batches = meter.stats.batches
    const cpu = await cpuClock(db)
    const started = performance.now()
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < ACTIONS) await call(orgs[(next++ * 7919) % orgs.length]!)
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const used = await cpu()
    return {
      rate: ACTIONS / seconds,
      nodeMicros: used.node / ACTIONS,
      serverMicros: used.server / ACTIONS,
      perBatch: path === 'meter' ? ACTIONS / (meter.stats.batches - batches) : 1,
    }
  }
  type Run = Awaited<ReturnType<typeof run>>

  // Warm-up, not measured: statements prepared, code compiled, every org's account cached.
  for (const callers of LEVELS) {
    await run('meter', callers)
    await run('insert', callers)
  }
  const results: { callers: number; meter: Run[]; insert: Run[]; ratios: number[] }[] = []
  for (const callers of LEVELS) {
    const r = { callers, meter: [] as Run[], insert: [] as Run[], ratios: [] as number[] }
    for (let round = 0; round < ROUNDS; round++) {
      const order: Path[] = round % 2 === 0 ? ['meter', 'insert'] : ['insert', 'meter']
      for (const path of order) r[path].push(await run(path, callers))
      const m = r.meter.at(-1)!
      const i = r.insert.at(-1)!
      r.ratios.push((m.nodeMicros + m.serverMicros) / (i.nodeMicros + i.serverMicros))
    }
    results.push(r)
  }
  await meter.close()

  const line = (label: string, runs: Run[]) =>
    `${label} ${median(runs.map((x) => x.rate))
      .toFixed(0)
      .padStart(6)} actions/s   CPU/action: node ${median(runs.map((x) => x.nodeMicros))
      .toFixed(0)
      .padStart(4)} µs, postgres ${median(runs.map((x) => x.serverMicros))
      .toFixed(0)
      .padStart(4)} µs`
  for (const r of results) {
    console.log(`${r.callers} caller${r.callers === 1 ? '' : 's'} in flight:`)
    console.log(`  plain insert:  ${line('', r.insert)}`)
    console.log(
      `  metering step: ${line('', r.meter)}   ${median(r.meter.map((x) => x.perBatch)).toFixed(1)} actions a batch`,
    )
    console.log(`  CPU ratio step/insert ${median(r.ratios).toFixed(2)}`)
  }
  const ratio = (callers: number) =>
    median(results.find((r) => r.callers === callers)!.ratios).toFixed(2)
  const batch = (callers: number) =>
    median(results.find((r) => r.callers === callers)!.meter.map((x) => x.perBatch)).toFixed(1)
  console.log(
    `bench:step ${LEVELS.map((c) => `cpu_ratio_${c}=${ratio(c)}`).join(' ')} batch_64=${batch(64)}`,
  )
} finally {
  await bench.drop()
}
