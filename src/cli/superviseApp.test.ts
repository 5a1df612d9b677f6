import { spawn } from 'node:child_process'
import { expect, test } from 'vitest'
import { superviseApp } from './superviseApp.js'

/** A node process with an IPC channel running `code` (the app stand-in). */
const node = (code: string) =>
  spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })

const ready = `process.send({ type: 'ready', api: 'http://127.0.0.1:1' })`

test('an app that never serves is restarted with a doubling pause, then given up in one sentence', async () => {
  const lines: string[] = []
  const startedAt: number[] = []
  const sentence = await new Promise<string>((onGiveUp) =>
    superviseApp({
      start: () => {
        startedAt.push(Date.now())
        return node('process.exit(3)')
      },
      say: (l) => lines.push(l),
      onGiveUp,
      firstDelayMs: 100,
      maxDelayMs: 250,
      maxQuickExits: 4,
    }),
  )
  expect(sentence).toBe(
    'The app exited 4 times in a row, each before it had served 30 s (last: it exited with code 3), so tollgate dev stops: its errors are above.',
  )
  expect(startedAt).toHaveLength(4)
  expect(
    lines.map((l) => l.replace(/pid \d+/, 'pid N').replace(/after [\d.]+ s/, 'after T')),
  ).toEqual(
    [0.1, 0.2, 0.25].map(
      (s) =>
        `tollgate dev: the app (pid N) exited with code 3 after T; starting it again in ${s} s (PostgreSQL and the chain keep running)`,
    ),
  )
  // Each pause at least as long as announced (the start of a node process adds to it).
  const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!)
  for (const [i, min] of [100, 200, 250].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(min)
})

test('an app that exits 2 refused to start: given up at once, not started again', async () => {
  let starts = 0
  const lines: string[] = []
  const sentence = await new Promise<string>((onGiveUp) =>
    superviseApp({
      start: () => {
        starts++
        return node('process.exit(2)')
      },
      say: (l) => lines.push(l),
      onGiveUp,
      firstDelayMs: 50,
    }),
  )
  expect(sentence).toBe(
    'The app refused to start (exit 2: its reason is above), so tollgate dev stops: starting it again would refuse again.',
  )
  await new Promise((r) => setTimeout(r, 200))
  expect(starts).toBe(1)
  expect(lines).toEqual([])
})

test('one that served long enough starts a new count; stop ends it and restarts no more', async () => {
  let starts = 0
  const lines: string[] = []
  let gaveUp = false
  const app = superviseApp({
    // Each serves (ready), then dies 300 ms later: longer than stableMs, so never given up.
    start: () => {
      starts++
      return node(`${ready}; setTimeout(() => process.exit(1), 300)`)
    },
    say: (l) => lines.push(l),
    onGiveUp: () => {
      gaveUp = true
    },
    firstDelayMs: 50,
    stableMs: 200,
    maxQuickExits: 2,
  })
  expect((await app.ready).api).toBe('http://127.0.0.1:1')
  while (starts < 4) await new Promise((r) => setTimeout(r, 50))
  expect(gaveUp).toBe(false)
  // Every restart waited the first pause again: each exit began a new count.
  expect(
    lines.every((l) =>
      l.endsWith('starting it again in 0.05 s (PostgreSQL and the chain keep running)'),
    ),
  ).toBe(true)
  await app.stop()
  const after = starts
  await new Promise((r) => setTimeout(r, 600))
  expect(starts).toBe(after)
  expect(app.current()).toBeUndefined()
})

test('stop sends SIGTERM to the serving process and waits for it', async () => {
  const app = superviseApp({
    start: () =>
      node(
        `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 100)); ${ready}; setInterval(() => {}, 1000)`,
      ),
    say: () => {},
    onGiveUp: () => {},
  })
  await app.ready
  const child = app.current()!
  await app.stop()
  expect([child.exitCode, child.signalCode]).toEqual([0, null])
})
