import { describe, expect, test } from 'vitest'
import { createApp } from '../../src/api/app.js'
import type { AppContext } from '../../src/api/context.js'
import { errorStatus } from '../../src/api/errorStatus.js'
import { listRoutes } from '../../src/api/listRoutes.js'
import { openApiDocument } from '../../src/api/openapi.js'
import { operationKey, operations } from '../../src/api/operations.js'
import { responses } from '../../src/api/responses.js'
import { loadConfig } from '../../src/config/index.js'
import { type ErrorCode, errorCodes } from '../../src/core/errorCodes.js'

const config = loadConfig({ PUBLIC_BASE_URL: 'https://tollgate.test' })
// Building the app touches neither the database nor the meter: routes only.
const app = createApp({
  config,
  db: {},
  meter: {},
  log: console,
  chain: undefined,
} as unknown as AppContext)
const doc = openApiDocument({ config })

/**
 * The API's routes: everything but the hosted pages (`/s/…`, `/dashboard`, `/notices/…`, and their `/assets`), which are HTML, and
 * `/metrics`, Prometheus text for the operator (docs/operations.md).
 */
const served = listRoutes(app).filter(
  (r) => !/^\w+ \/(s|dashboard|notices|metrics|assets|favicon\.ico)(\/|$)/.test(r),
)
const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
)

describe('/openapi.json', () => {
  test('documents exactly the routes express serves, aliases included', () => {
    expect(served.length).toBeGreaterThan(40)
    expect(served.filter((r) => !documented.includes(r))).toEqual([])
    expect(documented.filter((r) => !served.includes(r))).toEqual([])
  })

  test('every operation has an answer schema, and every answer schema an operation', () => {
    expect(operations.map(operationKey).sort()).toEqual(Object.keys(responses).sort())
  })

  test('every status an operation answers has a schema; errors only with codes of their status', () => {
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops as Record<string, { responses: object }>)) {
        const answers = op.responses as Record<
          string,
          {
            content?: Record<
              string,
              {
                schema: {
                  allOf?: { properties: { error: { properties: { code: { enum: string[] } } } } }[]
                }
              }
            >
          }
        >
        const statuses = Object.keys(answers)
        expect(statuses, `${method} ${path}`).toContain('400')
        expect(statuses, `${method} ${path}`).toContain('431')
        expect(
          statuses.some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true)
        for (const [status, answer] of Object.entries(answers)) {
          const schema = answer.content?.['application/json']?.schema
          expect(schema, `${method} ${path} ${status}`).toBeDefined()
          for (const code of schema?.allOf?.[1]?.properties.error.properties.code.enum ?? [])
            expect(errorStatus[code as ErrorCode]).toBe(Number(status))
        }
      }
  })

  test('metered writes document 402 and their price; credentials 401; owner routes 403', () => {
    type Op = { responses: Record<string, unknown>; 'x-tollgate-price-micros'?: string }
    const op = (method: string, path: string) => (doc.paths[path] as Record<string, Op>)[method]!
    expect(Object.keys(op('post', '/v1/issues').responses)).toEqual(
      expect.arrayContaining([
        '201',
        '400',
        '401',
        '402',
        '403',
        '409',
        '413',
        '415',
        '429',
        '431',
        '503',
      ]),
    )
    expect(op('post', '/v1/issues')['x-tollgate-price-micros']).toBe(
      config.rateCard.prices['save_issue.create']!.toString(),
    )
    expect(Object.keys(op('post', '/v1/usage').responses)).toEqual(
      expect.arrayContaining(['200', '201', '402']),
    )
    expect(Object.keys(op('get', '/v1/keys').responses)).toContain('403')
    expect(Object.keys(op('get', '/v1/issues').responses)).not.toContain('402')
    expect(Object.keys(op('post', '/v1/orgs').responses)).not.toContain('401')
    expect(Object.keys(op('post', '/v1/issues/{id}/heartbeat').responses)).toContain('409')
  })

  test('the error schema names every code of the table', () => {
    const error = doc.components.schemas.Error as unknown as {
      properties: { error: { properties: { code: { enum: string[] } } } }
    }
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(errorCodes))
  })
})
