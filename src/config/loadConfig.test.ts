import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { describe, expect, test } from 'vitest'
import { ConfigError } from '../core/errors.js'
import { anvilKeys, loadConfig, projectRoot } from './index.js'

describe('loadConfig', () => {
  test('defaults run a local system with the billing defaults of docs/operations.md', () => {
    const config = loadConfig({})
    expect(config.db.url).toBeUndefined()
    expect(config.chain.rpcUrl).toBeUndefined()
    expect(config.billing.signupCreditMicros).toBe(2_000_000n)
    expect(config.billing.thresholdMicros).toBe(1_000_000n)
    expect(config.billing.windowSeconds).toBe(2_592_000)
    expect(config.product.publicBaseUrl).toBe('http://127.0.0.1:4000')
    expect(Object.isFrozen(config.billing)).toBe(true)
  })

  test('locally the payee key is the payee’s: the deployer’s, unless PAYEE names another', () => {
    const [deployer, , other] = anvilKeys
    expect(loadConfig({}).chain.payeeKey?.reveal()).toBe(deployer)
    expect(loadConfig({ DEPLOYER_KEY: other }).chain.payeeKey?.reveal()).toBe(other)
    const payee = { PAYEE: '0x90F79bf6EB2c4f870365E785982E1f101E93b906' }
    expect(loadConfig(payee).chain.payeeKey).toBeUndefined()
    expect(loadConfig({ ...payee, PAYEE_KEY: other }).chain.payeeKey?.reveal()).toBe(other)
  })

  test('links, the dashboard URL and the listener are one origin unless PUBLIC_BASE_URL says otherwise', () => {
    // The API listens on HOST:PORT; what `tollgate` prints and mails link to must be that very
    // origin, or the session cookie set on one is missing on the other.
    const local = loadConfig({ PORT: '4705' })
    expect(local.http).toEqual({ host: '127.0.0.1', port: 4705 })
    expect(local.product.publicBaseUrl).toBe('http://127.0.0.1:4705')
    expect(local.product.dashboardUrl).toBe('http://127.0.0.1:4705/dashboard')
    expect(local.notifications.mailFrom).toBe('Tollgate <notices@localhost>')
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '4705' }).product.publicBaseUrl).toBe(
      'http://127.0.0.1:4705',
    )
    expect(loadConfig({ HOST: '::1', PORT: '4705' }).product.publicBaseUrl).toBe(
      'http://[::1]:4705',
    )
    const set = loadConfig({ PORT: '4705', PUBLIC_BASE_URL: 'https://billing.example.com/' })
    expect(set.product.publicBaseUrl).toBe('https://billing.example.com')
    expect(set.product.dashboardUrl).toBe('https://billing.example.com/dashboard')
    expect(set.notifications.mailFrom).toBe('Tollgate <notices@billing.example.com>')
  })

  test('bad values fail naming each field and the reason', () => {
    let error: unknown
    try {
      loadConfig({ PORT: 'eighty', SIGNUP_CREDIT_MICROS: '1.5', DATABASE_URL: 'not a url' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as ConfigError).message
    expect(message).toMatch(/PORT: /)
    expect(message).toMatch(/SIGNUP_CREDIT_MICROS: .*whole number/)
    expect(message).toMatch(/DATABASE_URL: /)
  })

  test('PREPAID_PACKAGES: exact micro-credits, or a failure naming it', () => {
    expect(loadConfig({ PREPAID_PACKAGES: '50:5' }).billing.prepaidPackages).toEqual([
      { price: 50_000_000n, bonus: 5_000_000n },
    ])
    expect(loadConfig({}).billing.prepaidPackages).toEqual([])
    expect(() => loadConfig({ PREPAID_PACKAGES: '50:5.1234567' })).toThrow(/PREPAID_PACKAGES: /)
  })

  test('a missing rate card names RATE_CARD_PATH', () => {
    expect(() => loadConfig({ RATE_CARD_PATH: '/nonexistent/rates.json' })).toThrow(
      /RATE_CARD_PATH/,
    )
  })

  test('secrets never print', () => {
    const key = `0x${'ab'.repeat(32)}`
    const config = loadConfig({ OPERATOR_KEY: key, RPC_URL: 'http://127.0.0.1:1' })
    const json = JSON.stringify(config, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
    expect(json).toContain('[redacted]')
    expect(json).not.toContain('abab')
    expect(inspect(config, { depth: 10 })).not.toContain('abab')
    expect(config.chain.operatorKey?.reveal()).toBe(key)
  })

  test('every variable the schema reads is in docs/operations.md § Configuration', () => {
    const read = (path: string) => readFileSync(`${projectRoot}/${path}`, 'utf8')
    const source = read('src/config/index.ts')
    const schema = source.slice(source.indexOf('const envSchema = z.object({'))
    const names = [...schema.slice(0, schema.indexOf('\n})')).matchAll(/^ {2}([A-Z0-9_]+):/gm)]
    const doc = read('docs/operations.md')
    const start = doc.indexOf('## Configuration')
    const section = doc.slice(start, doc.indexOf('\n## ', start))
    expect(names.length).toBeGreaterThan(30)
    expect(names.map((m) => m[1]).filter((n) => !section.includes(`\`${n}\``))).toEqual([])
  })
})
