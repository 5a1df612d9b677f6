import { describe, expect, test } from 'vitest'
import { Secret } from '../config/secret.js'
import { createLogger, type LogLevel } from './log.js'

// A logger writing into an array, one parsed JSON line per event.
function capture(level: LogLevel = 'debug', base: Record<string, unknown> = {}) {
  const raw: string[] = []
  const log = createLogger(level, base, { destination: { write: (s: string) => void raw.push(s) } })
  return { log, raw, lines: () => raw.map((s) => JSON.parse(s) as Record<string, unknown>) }
}

const apiKey = 'tg_live_3f9a1c0b7e2d4a6f8b1c'
const privateKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const dbPassword = 'hunter2-pg-pass'
const manageToken = 'eyJzIjoiYWJjIn0.c2lnbmF0dXJl'

describe('createLogger', () => {
  test('one JSON line per event: level, time, message, fields; bigints as decimal strings', () => {
    const { log, raw, lines } = capture('info', { process: 'worker' })
    log.debug('not printed below the level')
    log.info('settled', { charges: 3, collectedMicros: 9_007_199_254_740_993n })
    expect(raw).toHaveLength(1)
    expect(raw[0]?.endsWith('\n')).toBe(true)
    const [line] = lines()
    expect(line).toMatchObject({
      level: 'info',
      msg: 'settled',
      process: 'worker',
      charges: 3,
      collectedMicros: '9007199254740993',
    })
    expect(Number.isNaN(Date.parse(String(line?.t)))).toBe(false)
  })

  test('a secret passed in a log object never appears in the output', () => {
    const { log, raw } = capture()
    log.error('request failed', {
      headers: { authorization: `Bearer ${apiKey}`, Cookie: `tg_session=${manageToken}` },
      apiKey,
      api_key: apiKey,
      key: apiKey,
      privateKey,
      operatorKey: privateKey,
      nested: [{ client_secret: 's3cr3t-value', password: dbPassword, sessionToken: manageToken }],
      databaseUrl: `postgres://tollgate:${dbPassword}@db.internal:5432/tollgate`,
      manageUrl: `https://bill.example/s/sub_1?t=${manageToken}`,
      error: new Error(`connect failed for postgres://tollgate:${dbPassword}@db.internal/x`),
      wrapped: new Secret(privateKey),
    })
    log
      .child({ operatorKey: privateKey, url: `https://rpc.example/v1?key=${apiKey}` })
      .warn(
        `retrying with ${apiKey} against postgres://u:${dbPassword}@h/db and /s/x?t=${manageToken}`,
      )
    const out = raw.join('')
    for (const secret of [apiKey, privateKey, dbPassword, manageToken, 's3cr3t-value']) {
      expect(out).not.toContain(secret)
    }
    expect(out).toContain('[redacted]')
    // What is not a secret stays readable.
    expect(out).toContain('db.internal:5432/tollgate')
    expect(out).toContain('https://bill.example/s/sub_1?t=[redacted]')
  })

  test('fields that only look like credentials stay', () => {
    const { log, lines } = capture()
    log.info('metered', { idempotencyKey: 'req-42', keyId: 'key_1', orgId: 'org_1', count: 2 })
    expect(lines()[0]).toMatchObject({ idempotencyKey: 'req-42', keyId: 'key_1', orgId: 'org_1' })
  })

  test('silent prints nothing', () => {
    const { log, raw } = capture('silent')
    log.error('boom', { privateKey })
    log.child({ a: 1 }).error('boom')
    expect(raw).toHaveLength(0)
  })
})
