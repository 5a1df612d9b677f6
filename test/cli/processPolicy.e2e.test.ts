import { spawn } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { isFatal } from '../../src/cli/processPolicy.js'

describe('the process policy for unhandled errors', () => {
  test('a stray rejection and a stray exception are logged and survived; a fatal one exits 70', async () => {
    const child = spawn('node', ['--import', 'tsx', 'test/cli/processPolicyChild.ts'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise((ok) => child.on('exit', ok))
    expect(stdout).toBe('alive\nstopping 70\n')
    const lines = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => [l.msg, l.error.message])).toEqual([
      [
        'unhandledRejection: logged, process goes on',
        'Cannot mix BigInt and other types, use explicit conversions',
      ],
      ['uncaughtException: logged, process goes on', 'a callback nobody guarded'],
      ['uncaughtException: fatal, exiting', 'too many open files'],
    ])
    expect(lines[0].error.stack).toContain('processPolicyChild.ts')
    expect(code).toBe(70)
  })

  test.each([
    [new Error('x'), false],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), false],
    [Object.assign(new Error('x'), { code: 'EADDRINUSE' }), true],
    [Object.assign(new Error('x'), { fatal: true }), true],
    ['a string', false],
    [null, false],
  ])('isFatal(%s) is %s', (error, fatal) => {
    expect(isFatal(error)).toBe(fatal)
  })
})
