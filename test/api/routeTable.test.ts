import { describe, expect, test } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { assertRoutesDocumented } from '../../src/api/assertRoutesDocumented.js'
import type { AppContext } from '../../src/api/context.js'
import { operations } from '../../src/api/operations.js'
import { loadConfig } from '../../src/config/index.js'

const config = loadConfig({ PUBLIC_BASE_URL: 'https://tollgate.test' })
// Building the app touches neither the database nor the meter: routes only.
const build = () =>
  createApp({ config, db: {}, meter: {}, log: console, chain: undefined } as unknown as AppContext)

describe('one route table', () => {
  test('the app builds: every API route has an operation and every operation a route', () => {
    expect(() => assertRoutesDocumented(build())).not.toThrow()
  })

  test('an API route without an operation is refused', () => {
    const app = build()
    app.get('/v1/secret', (_req, res) => {
      res.json({})
    })
    expect(() => assertRoutesDocumented(app)).toThrow('GET /v1/secret has no operation')
    // Pages are not the API: a new page needs no operation.
    const pages = build()
    pages.get('/s/:id/extra', (_req, res) => {
      res.send('')
    })
    expect(() => assertRoutesDocumented(pages)).not.toThrow()
  })

  test('createApp refuses an operation no route serves', () => {
    // An alias documents one more path for an operation that is in the table.
    const op = operations.find((o) => o.path === '/healthz')!
    const aliases = op.aliases
    op.aliases = [...(aliases ?? []), '/v1/ghost']
    try {
      expect(build).toThrow('GET /v1/ghost is not served')
    } finally {
      op.aliases = aliases
    }
    expect(build).not.toThrow()
  })
})
