#!/usr/bin/env node
// `npm test`: everything CI checks, in order — lint, types, unused code (knip), layers and
// cycles (dependency-cruiser), one writer per table and file sizes (checkLayout), forge tests,
// the gas check, then vitest (unit and integration).
// It ends with one line `N passed, N failed` summing forge's and vitest's counts, so a run
// that tested nothing is visible.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'

const bin = (name) => `node_modules/.bin/${name}`
let passed = 0
let failed = 0
const failures = []

function run(label, cmd, args, { capture = false } = {}) {
  process.stdout.write(`\n=== ${label}: ${cmd} ${args.join(' ')}\n`)
  const result = spawnSync(cmd, args, {
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
    maxBuffer: 256 * 1024 * 1024,
  })
  if (capture) process.stdout.write(result.stdout ?? '')
  if (result.status !== 0) failures.push(`${label} (exit ${result.status ?? result.signal})`)
  return result
}

run('lint', bin('biome'), ['check', '.'])
run('types', bin('tsc'), ['--noEmit'])
run('unused code', bin('knip'), ['--no-progress'])
run('test-only code in src', bin('knip'), ['--production', '--files', '--exports', '--no-progress'])
run('layers', bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs'])
run('layout', 'node', ['scripts/checkLayout.mjs'])

if (existsSync('foundry.toml')) {
  const forge = run('forge', bin('forge'), ['test'], { capture: true })
  // "Ran 5 test suites in 2.1s (...): 42 tests passed, 0 failed, 0 skipped (42 total tests)"
  const m = /(\d+) tests passed, (\d+) failed, (\d+) skipped/.exec(forge.stdout ?? '')
  if (m) {
    passed += Number(m[1])
    failed += Number(m[2])
  } else if (forge.status !== 0) failed += 1
}
if (existsSync('scripts/bench/gas.ts')) {
  run('gas check', 'node', ['--import', 'tsx', 'scripts/bench/gas.ts', '--check'])
}

mkdirSync('test-results', { recursive: true })
const report = 'test-results/vitest.json'
run('vitest', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
])
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'))
  passed += json.numPassedTests ?? 0
  failed += json.numFailedTests ?? 0
  if (json.numFailedTestSuites)
    failures.push(`${json.numFailedTestSuites} vitest file(s) failed to run`)
  if (json.numTotalTests === 0) failures.push('vitest ran no test')
} else failures.push('vitest wrote no report')

if (failures.length) process.stdout.write(`\nfailed steps: ${failures.join(', ')}\n`)
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(failures.length || failed ? 1 : 0)
