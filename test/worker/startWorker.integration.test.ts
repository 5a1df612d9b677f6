import { createLogger } from '../../src/core/log.js'
import { startWorker } from '../../src/worker/startWorker.js'
import { describe, expect, test } from '../fixtures.js'

describe('startWorker', () => {
  test('a worker with more jobs than Node’s default 10 listeners warns of no leak', async ({
    db,
  }) => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    const runs = new Map<string, number>()
    const jobs = Array.from({ length: 14 }, (_, i) => ({
      name: `job${i}`,
      everyMs: 20,
      run: async () => void runs.set(`job${i}`, (runs.get(`job${i}`) ?? 0) + 1),
    }))
    const worker = startWorker({ db, log: createLogger('silent'), jobs })
    try {
      await expect.poll(() => [...runs.values()].filter((n) => n >= 3).length).toBe(14)
    } finally {
      await worker.stop()
      // Node emits the warning on the next tick.
      await new Promise((r) => setImmediate(r))
      process.off('warning', onWarning)
    }
    expect(warnings).toEqual([])
  })
})
