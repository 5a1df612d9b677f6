import { describe, expect, test } from 'vitest'
import { withBackoff } from '../../src/settlement/backoff.js'

describe('withBackoff', () => {
  test('skips runs after a failure for a growing delay; a success resets it', async () => {
    let calls = 0
    let fail = true
    const job = withBackoff({
      name: 'x',
      everyMs: 10,
      run: async () => {
        calls += 1
        if (fail) throw new Error('rpc down')
      },
    })
    const signal = new AbortController().signal
    await expect(job.run(signal)).rejects.toThrow('rpc down')
    // Within 20 ms of the failure the job is not tried again.
    await job.run(signal)
    expect(calls).toBe(1)
    await new Promise((r) => setTimeout(r, 25))
    fail = false
    await job.run(signal)
    expect(calls).toBe(2)
    await job.run(signal)
    expect(calls).toBe(3)
  })
})
