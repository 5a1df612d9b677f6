import { randomBytes, randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { reconcileLedger } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const counts = (db: { $client: import('postgres').Sql }) => db.$client`
  select (select count(*) from usage)::int as usage, (select count(*) from ledger_entries)::int as entries,
         (select count(*) from issues)::int as issues, (select count(*) from issue_comments)::int as comments,
         (select count(*) from issue_labels)::int as labels, (select count(*) from issue_relations)::int as relations,
         (select count(*) from issue_attachments)::int as attachments, (select count(*) from api_keys)::int as keys,
         (select count(*) from session_keys)::int as sessions, (select count(*) from idempotent_responses)::int as idem`

describe('the work queue under bad input', () => {
  test('10,000 generated malformed requests over every queue endpoint: all 4xx in the envelope, nothing changes', async ({
    db,
  }) => {
    // The key's rate limit lifted, so every request reaches the checks it is made to fail (at
    // the default 500 a second, a fast run had 2,800 of these answered 429 before any check).
    const api = await startApi(db, {}, { rateLimits: { perKeyPerSecond: 1_000_000 } })
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Fuzz', owner_address: `0x${randomBytes(20).toString('hex')}` },
      })
    ).json
    const key = org.api_key as string
    const issue = (await api.call('POST', '/v1/issues', { key, body: { title: 'target' } })).json
      .issue.id as string
    const other = (await api.call('POST', '/v1/issues', { key, body: { title: 'other' } })).json
      .issue.id as string
    const before = await counts(db)

    // Each write endpoint with a valid body; strict bodies make any extra field invalid.
    const writes: [string, string, Record<string, unknown>][] = [
      ['POST', '/v1/issues', { title: 't' }],
      ['PATCH', `/v1/issues/${issue}`, { title: 't' }],
      ['POST', `/v1/issues/${issue}/comments`, { body: 'c' }],
      ['POST', `/v1/issues/${issue}/relations`, { to: other, kind: 'blocks' }],
      ['POST', `/v1/issues/${issue}/labels`, { label: 'l' }],
      [
        'POST',
        `/v1/issues/${issue}/attachments`,
        { name: 'a', content_type: 'text/plain', size_bytes: 1 },
      ],
      ['POST', '/v1/queue/next', {}],
      ['POST', '/v1/queue/batch', { size: 2 }],
      ['POST', `/v1/issues/${issue}/claim`, {}],
      ['POST', '/v1/session_keys', {}],
    ]
    const windDown: [string, Record<string, unknown>][] = [
      ['heartbeat', {}],
      ['checkpoint', { checkpoint: 'x' }],
      ['release', {}],
    ]
    // Never a string or a number: the wrong type for every field of every body.
    const junk = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.record({ a: fc.integer() }),
    )
    // The field each write cannot do without (or a numeric one that is checked).
    const field = [
      'title',
      'title',
      'body',
      'to',
      'label',
      'size_bytes',
      'lease_seconds',
      'size',
      'lease_seconds',
      'ttl_seconds',
    ]
    const sample = fc.oneof(
      // An unknown field on an otherwise valid body.
      fc.record({
        kind: fc.constant('extra' as const),
        w: fc.nat(writes.length - 1),
        field: fc
          .string({ minLength: 1, maxLength: 12 })
          .filter(
            (f) =>
              !/^(title|body|status|priority|labels|to|kind|label|name|content_type|size_bytes|url|lease_seconds|size|ttl_seconds|__proto__|constructor)$/.test(
                f,
              ),
          ),
        value: fc.jsonValue(),
      }),
      // A known field with a wrong type or out of range.
      fc.record({
        kind: fc.constant('type' as const),
        w: fc.nat(writes.length - 1),
        value: junk,
      }),
      // Not an object at all.
      fc.record({
        kind: fc.constant('shape' as const),
        w: fc.nat(writes.length - 1),
        raw: fc.oneof(
          fc.constantFrom('[]', '"s"', '42', 'null', 'true', '{"title":', '{,}', '{"a":1'),
          fc.constant(`{"title":"${'a'.repeat(70_000)}"}`),
        ),
      }),
      // A path id that is not a uuid, or one this org does not have.
      fc.record({
        kind: fc.constant('id' as const),
        w: fc.integer({ min: 1, max: 5 }),
        id: fc.oneof(
          fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s)),
          fc.constant('random'),
        ),
      }),
      // A malformed Idempotency-Key on a valid write.
      fc.record({
        kind: fc.constant('idem' as const),
        w: fc.nat(writes.length - 1),
        idem: fc.oneof(
          fc.constantFrom('', 'has space', 'semi;colon', '"quoted"', 'a/b', 'x'.repeat(256)),
          fc.string({ minLength: 256, maxLength: 300 }).map((s) => s.replace(/[^\x21-\x7e]/g, '~')),
        ),
      }),
      // Wind-down with a lease the caller does not hold.
      fc.record({
        kind: fc.constant('lease' as const),
        d: fc.nat(windDown.length - 1),
        token: fc.string({ minLength: 1, maxLength: 64 }),
      }),
      // A bad credential.
      fc.record({
        kind: fc.constant('key' as const),
        w: fc.nat(writes.length - 1),
        key: fc.oneof(
          fc.constant(''),
          fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
          fc.constant(`tg_live_${'x'.repeat(32)}`),
          fc.constant(`tg_sess_${'y'.repeat(32)}`),
          fc.constant(key.slice(0, -1)),
        ),
      }),
      // Bad query strings on the free reads.
      fc.record({
        kind: fc.constant('query' as const),
        pq: fc.constantFrom(
          '/v1/issues?limit=abc',
          '/v1/issues?limit=0',
          '/v1/issues?limit=100000',
          '/v1/issues?status=bogus',
          '/v1/issues?before=yesterday',
          '/v1/issues?label=',
          '/v1/queue/batch?size=1000',
          '/v1/queue/batch?size=-1',
          '/v1/queue/batch?size=x',
          '/v1/billing/transactions?limit=0',
          '/v1/billing/transactions?before=abc',
        ),
      }),
    )
    const samples = fc.sample(sample, { numRuns: 10_000, seed: 7 })
    const statuses = new Map<number, number>()
    let i = 0
    const worker = async () => {
      while (i < samples.length) {
        const s = samples[i++]!
        let res: Awaited<ReturnType<typeof api.call>>
        if (s.kind === 'extra') {
          const [method, path, body] = writes[s.w]!
          res = await api.call(method, path, { key, body: { ...body, [s.field]: s.value } })
        } else if (s.kind === 'type') {
          const [method, path, body] = writes[s.w]!
          res = await api.call(method, path, { key, body: { ...body, [field[s.w]!]: s.value } })
        } else if (s.kind === 'shape') {
          const [method, path] = writes[s.w]!
          res = await api.call(method, path, { key, raw: s.raw })
        } else if (s.kind === 'id') {
          const [method, path, body] = writes[s.w]!
          const id = s.id === 'random' ? randomUUID() : s.id === issue ? 'x' : s.id
          res = await api.call(method, path.replace(issue, id), { key, body })
        } else if (s.kind === 'idem') {
          const [method, path, body] = writes[s.w]!
          res = await api.call(method, path, { key, body, headers: { 'idempotency-key': s.idem } })
        } else if (s.kind === 'lease') {
          const [action, body] = windDown[s.d]!
          res = await api.call('POST', `/v1/issues/${issue}/${action}`, {
            key,
            body: { ...body, lease_token: s.token },
          })
        } else if (s.kind === 'key') {
          const [method, path, body] = writes[s.w]!
          res = await api.call(method, path, { key: s.key || undefined, body })
        } else res = await api.call('GET', s.pq, { key })
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status < 400 || res.status >= 500 || typeof res.json?.error?.code !== 'string')
          throw new Error(
            `request ${JSON.stringify(s).slice(0, 300)} answered ${res.status} ${res.text.slice(0, 300)}`,
          )
      }
    }
    await Promise.all(Array.from({ length: 12 }, worker))
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000)
    expect(statuses.has(429)).toBe(false)
    expect(await counts(db)).toEqual(before)
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    await api.stop()
  }, 180_000)
})
