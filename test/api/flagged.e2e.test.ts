import { describe, expect, test } from '../fixtures.js'
import { signUp, startApi, usageAndLedgerLines } from './server.js'

// The behaviour a careful agent developer flagged: each is a rule now, with its test.

describe('a write that changes nothing is free', () => {
  test('removing an absent label, adding a present one, adding an existing relation: 2xx, not charged', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const a = (await api.call('POST', '/v1/issues', { key, body: { title: 'A', labels: ['bug'] } }))
      .json.issue.id
    const b = (await api.call('POST', '/v1/issues', { key, body: { title: 'B' } })).json.issue.id
    expect(
      (await api.call('POST', `/v1/issues/${a}/relations`, { key, body: { to: b } })).status,
    ).toBe(201)
    const before = await usageAndLedgerLines(api, org.org.id)

    const absent = await api.call('DELETE', `/v1/issues/${a}/labels/nope`, { key })
    expect([absent.status, absent.json]).toEqual([200, { removed: 'nope', metered: null }])
    const present = await api.call('POST', `/v1/issues/${a}/labels`, {
      key,
      body: { label: 'bug' },
    })
    expect([present.status, present.json]).toEqual([201, { label: 'bug', metered: null }])
    const again = await api.call('POST', `/v1/issues/${a}/relations`, { key, body: { to: b } })
    expect([again.status, again.json.metered]).toEqual([201, null])
    expect(await usageAndLedgerLines(api, org.org.id)).toBe(before)

    // A removal that removes something is charged, once.
    const removed = await api.call('DELETE', `/v1/issues/${a}/labels/bug`, { key })
    expect(removed.json.metered).toMatchObject({ action: 'remove_label', price_micros: '3000' })
    const twice = await api.call('DELETE', `/v1/issues/${a}/labels/bug`, { key })
    expect(twice.json.metered).toBeNull()
    await api.stop()
  })
})

describe('idempotent replays answer what the first call answered', () => {
  test('8 concurrent identical POST /v1/usage with one key: 8×201, the same bytes, charged once', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const before = await usageAndLedgerLines(api, org.org.id)
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.call('POST', '/v1/usage', {
          key: org.api_key,
          body: { action: 'save_comment' },
          headers: { 'idempotency-key': 'eight-at-once' },
        }),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201))
    expect(new Set(answers.map((a) => a.text)).size).toBe(1)
    // One usage row and its one voucher line.
    expect(await usageAndLedgerLines(api, org.org.id)).toBe(before + 2)
    const later = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'eight-at-once' },
    })
    expect([later.status, later.text]).toEqual([201, answers[0]!.text])
    expect(later.headers.get('idempotent-replayed')).toBe('true')
    await api.stop()
  })

  test('a replayed write answers its first status and body byte for byte', async ({ db }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const create = () =>
      api.call('POST', '/v1/issues', {
        key: org.api_key,
        body: { title: 'once', body: 'x', labels: ['b', 'a'], priority: 3 },
        headers: { 'idempotency-key': 'create-once' },
      })
    const first = await create()
    const retry = await create()
    expect(first.status).toBe(201)
    expect([retry.status, retry.text]).toEqual([first.status, first.text])
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    await api.stop()
  })
})

describe('session keys', () => {
  test('a session key never outlives the session that minted it', async ({ db }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const short = await api.call('POST', '/v1/session-keys', {
      key: org.api_key,
      body: { ttl_seconds: 60 },
    })
    expect(short.status).toBe(201)
    const shortExpiry = new Date(short.json.expires_at).getTime()
    expect(shortExpiry - Date.now()).toBeLessThanOrEqual(60_000)
    const long = await api.call('POST', '/v1/session-keys', {
      key: short.json.session_key,
      body: { ttl_seconds: 24 * 3600 },
    })
    expect(long.status).toBe(201)
    expect(new Date(long.json.expires_at).getTime()).toBeLessThanOrEqual(shortExpiry)
    // Minted by the API key itself, a session key lives its whole ttl.
    const day = await api.call('POST', '/v1/session-keys', {
      key: org.api_key,
      body: { ttl_seconds: 24 * 3600 },
    })
    expect(new Date(day.json.expires_at).getTime() - Date.now()).toBeGreaterThan(23 * 3600_000)
    await api.stop()
  })
})

describe('attachment URLs', () => {
  test('javascript: and data: URLs are refused with 400 and nothing is charged; https: is kept', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const id = (await api.call('POST', '/v1/issues', { key, body: { title: 'A' } })).json.issue.id
    const before = await usageAndLedgerLines(api, org.org.id)
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
    ]) {
      const res = await api.call('POST', `/v1/issues/${id}/attachments`, {
        key,
        body: { name: 'x', content_type: 'text/html', size_bytes: 1, url },
      })
      expect([url, res.status, res.json.error.code]).toEqual([url, 400, 'VALIDATION_FAILED'])
    }
    expect(await usageAndLedgerLines(api, org.org.id)).toBe(before)
    const ok = await api.call('POST', `/v1/issues/${id}/attachments`, {
      key,
      body: {
        name: 'x',
        content_type: 'text/plain',
        size_bytes: 1,
        url: 'https://files.example/x',
      },
    })
    expect(ok.status).toBe(201)
    await api.stop()
  })
})

describe('query parameters', () => {
  test('unknown, bracketed and repeated parameters are refused with 400 INVALID_QUERY_PARAMETER', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    for (const path of [
      '/v1/issues?status[a]=b',
      '/v1/issues?status%5Ba%5D=b',
      '/v1/billing/transactions?type[]=x',
      '/v1/issues?status=open&status=done',
      '/v1/issues?stauts=open',
      '/v1/issues?__proto__=x',
      '/v1/queue/batch?size=1&size=2',
      '/v1/whoami?x=1',
      '/v1/billing?verbose',
    ]) {
      const res = await api.call('GET', path, { key: org.api_key })
      expect([path, res.status, res.json?.error?.code]).toEqual([
        path,
        400,
        'INVALID_QUERY_PARAMETER',
      ])
    }
    const posted = await api.call('POST', '/v1/usage?dry_run=1', {
      key: org.api_key,
      body: { action: 'heartbeat' },
    })
    expect([posted.status, posted.json.error.code]).toEqual([400, 'INVALID_QUERY_PARAMETER'])
    for (const path of [
      '/v1/issues?status=open&label=bug&limit=5',
      '/v1/billing/transactions?type=voucher_grant&limit=2',
      '/v1/queue/batch?size=3',
    ])
      expect((await api.call('GET', path, { key: org.api_key })).status, path).toBe(200)
    await api.stop()
  })
})
