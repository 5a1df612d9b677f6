import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import { describe, expect, test } from '../fixtures.js'
import { ledgerLines, signUp, startApi } from './server.js'

// Malformed input that used to answer 500 (or an empty 431): each is now a 4xx in the
// `{"error":{"code","message"}}` envelope, and none of it changes the ledger.

const owner = () => `0x${randomBytes(20).toString('hex')}`

/** A request with a raw path and raw headers (fetch would normalize both). */
function rawRequest(
  url: string,
  p: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
) {
  const { hostname, port } = new URL(url)
  return new Promise<{ status: number; json: unknown; text: string }>((ok, fail) => {
    const req = request(
      { host: hostname, port, method: p.method, path: p.path, headers: p.headers },
      (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => {
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {}
          ok({ status: res.statusCode!, json, text })
        })
      },
    )
    req.on('error', fail)
    req.end(p.body)
  })
}

const envelope = (code: string) => ({
  error: expect.objectContaining({ code, message: expect.any(String) }),
})

describe('text PostgreSQL cannot store', () => {
  test('a NUL or a lone surrogate in any text field or query value is 400 INVALID_TEXT, and nothing is metered', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const issue = await api.call('POST', '/v1/issues', { key, body: { title: 'ok' } })
    expect(issue.status).toBe(201)
    const id = issue.json.issue.id as string
    const claimed = await api.call('POST', `/v1/issues/${id}/claim`, { key, body: {} })
    expect(claimed.status).toBe(200)
    const token = claimed.json.issue.lease.token as string
    const before = await ledgerLines(api, org.org.id)
    for (const bad of ['nul\u0000here', 'lone \ud800 surrogate', 'low \udc00']) {
      const cases: Array<[string, string, unknown]> = [
        ['POST', '/v1/issues', { title: bad }],
        ['POST', '/v1/issues', { title: 'ok', body: bad }],
        ['POST', '/v1/issues', { title: 'ok', labels: [bad] }],
        ['PATCH', `/v1/issues/${id}`, { title: bad }],
        ['PATCH', `/v1/issues/${id}`, { body: bad }],
        ['POST', `/v1/issues/${id}/comments`, { body: bad }],
        ['POST', `/v1/issues/${id}/labels`, { label: bad }],
        [
          'POST',
          `/v1/issues/${id}/attachments`,
          { name: bad, content_type: 'text/plain', size_bytes: 1 },
        ],
        ['POST', `/v1/issues/${id}/attachments`, { name: 'a', content_type: bad, size_bytes: 1 }],
        ['POST', `/v1/issues/${id}/checkpoint`, { lease_token: token, checkpoint: bad }],
        ['POST', `/v1/issues/${id}/heartbeat`, { lease_token: bad }],
        ['POST', '/v1/usage', { action: bad }],
        ['POST', '/v1/usage/check', { action: bad }],
        ['POST', '/v1/orgs', { name: bad, owner_address: owner() }],
      ]
      for (const [method, path, body] of cases) {
        const res = await api.call(method, path, { key, body })
        expect([method, path, body, res.status, res.json?.error?.code]).toEqual([
          method,
          path,
          body,
          400,
          'INVALID_TEXT',
        ])
      }
      const encoded = encodeURIComponent(bad.replace(/[\ud800-\udfff]/, '')) // fetch rewrites lone surrogates
      for (const path of [
        `/v1/issues?label=${encoded}`,
        `/v1/billing/transactions?type=${encoded}`,
        `/v1/issues/${id}/labels/${encoded}`,
      ]) {
        if (!encoded.includes('%00')) continue
        const res = await api.call(path.includes('/labels/') ? 'DELETE' : 'GET', path, { key })
        expect([path, res.status, res.json?.error?.code]).toEqual([path, 400, 'INVALID_TEXT'])
      }
    }
    // A surrogate percent-encoded (ED A0 80, U+D800 as if UTF-8) is not UTF-8 at all.
    const surrogate = await api.call('GET', '/v1/issues?label=%ED%A0%80', { key })
    expect(surrogate.status).toBe(400)
    expect(surrogate.json).toEqual(envelope('MALFORMED_URL'))
    expect(await ledgerLines(api, org.org.id)).toBe(before)
    // The same requests with good text go through.
    const good = await api.call('POST', `/v1/issues/${id}/comments`, {
      key,
      body: { body: 'fine \ud83d\ude00' },
    })
    expect(good.status).toBe(201)
    await api.stop()
  })
})

describe('malformed requests', () => {
  test('bad percent-encoding in a path is 400 in the envelope', async ({ db }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    for (const [method, path] of [
      ['GET', '/v1/issues/%E0%A4%A'],
      ['GET', '/v1/issues/%'],
      ['DELETE', '/v1/keys/%'],
      ['DELETE', '/v1/issues/%ZZ/labels/x'],
      ['GET', '/v1/issues?label=%E0%A4%A'],
    ] as const) {
      const res = await rawRequest(api.url, {
        method,
        path,
        headers: { authorization: `Bearer ${org.api_key}` },
      })
      expect([method, path, res.status, res.json]).toEqual([
        method,
        path,
        400,
        envelope('MALFORMED_URL'),
      ])
    }
    await api.stop()
  })

  test('a body whose Content-Encoding is a lie is refused in the envelope; a real gzip body is read', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const before = await ledgerLines(api, org.org.id)
    const json = JSON.stringify({ action: 'heartbeat' })
    for (const encoding of ['gzip', 'br', 'deflate', 'x-unknown']) {
      const res = await rawRequest(api.url, {
        method: 'POST',
        path: '/v1/usage',
        headers: {
          authorization: `Bearer ${org.api_key}`,
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        body: json,
      })
      expect([encoding, res.status, res.json]).toEqual([
        encoding,
        encoding === 'x-unknown' ? 415 : 400,
        envelope(encoding === 'x-unknown' ? 'UNSUPPORTED_MEDIA_TYPE' : 'MALFORMED_BODY'),
      ])
    }
    expect(await ledgerLines(api, org.org.id)).toBe(before)
    const real = await rawRequest(api.url, {
      method: 'POST',
      path: '/v1/usage',
      headers: {
        authorization: `Bearer ${org.api_key}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(json),
    })
    expect(real.status).toBe(201)
    await api.stop()
  })

  test('a body in any charset but UTF-8 is 415 UNSUPPORTED_MEDIA_TYPE and changes nothing; UTF-8 is read', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const before = await ledgerLines(api, org.org.id)
    // UTF-7 decodes `+AGE-` as "a": a body that a filter reads as one thing and the API as another.
    const post = (charset: string) =>
      rawRequest(api.url, {
        method: 'POST',
        path: '/v1/usage',
        headers: {
          authorization: `Bearer ${org.api_key}`,
          'content-type': `application/json; charset=${charset}`,
        },
        body: '{"action":"heartbeat"}',
      })
    for (const charset of ['utf-7', 'UTF-16', 'utf-32', 'latin1', 'utf8', '"utf-7"', 'x-bogus']) {
      const res = await post(charset)
      expect([charset, res.status, res.json]).toEqual([
        charset,
        415,
        envelope('UNSUPPORTED_MEDIA_TYPE'),
      ])
    }
    expect(await ledgerLines(api, org.org.id)).toBe(before)
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"'])
      expect([charset, (await post(charset)).status]).toEqual([charset, 201])
    await api.stop()
  })

  test('a 20 kB header is 431 with the envelope, and the server goes on', async ({ db }) => {
    const api = await startApi(db)
    const res = await rawRequest(api.url, {
      method: 'GET',
      path: '/v1/whoami',
      headers: { 'x-padding': 'a'.repeat(20_000) },
    })
    expect(res.status).toBe(431)
    expect(res.json).toEqual(envelope('HEADERS_TOO_LARGE'))
    const next = await rawRequest(api.url, { method: 'GET', path: '/openapi.json' })
    expect(next.status).toBe(200)
    await api.stop()
  })
})

describe('deeply nested JSON', () => {
  test('a body nested 32,000 deep is 400 VALIDATION_FAILED on every write, never a 500; 60 deep is read', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const before = await ledgerLines(api, org.org.id)
    const deep = `${'['.repeat(32_000)}${']'.repeat(32_000)}`
    for (const [path, body] of [
      ['/v1/issues', `{"title":"t","labels":${deep}}`],
      ['/v1/session-keys', deep],
      ['/v1/usage', `{"action":"save_comment","x":${deep}}`],
      ['/v1/orgs', deep],
    ] as const) {
      const res = await rawRequest(api.url, {
        method: 'POST',
        path,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': `deep${path.replaceAll('/', '.')}`,
        },
        body,
      })
      expect([path, res.status, res.json]).toEqual([
        path,
        400,
        {
          error: {
            code: 'VALIDATION_FAILED',
            message: 'the JSON body nests deeper than 64 levels',
          },
        },
      ])
    }
    expect(await ledgerLines(api, org.org.id)).toBe(before)
    // Nesting a real request never reaches is still only the schema's business.
    const nested = `${'['.repeat(60)}${']'.repeat(60)}`
    const fine = await rawRequest(api.url, {
      method: 'POST',
      path: '/v1/usage',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: `{"action":"save_comment","x":${nested}}`,
    })
    expect(fine.status).toBe(201)
    await api.stop()
  })
})
