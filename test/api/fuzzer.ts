import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import type { Sql } from 'postgres'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { errorStatus } from '../../src/api/errorStatus.js'
import { errorsOf, type Operation, operationKey, operations } from '../../src/api/operations.js'
import { errorBody, responses } from '../../src/api/responses.js'
import { siweMessage } from '../support/siweMessage.js'

// A schema-driven fuzzer for the whole HTTP API. Requests come from the operation table: bodies
// and queries generated from each route's zod schema (through its JSON Schema), valid, nearly
// valid (one field wrong) and hostile (a dictionary of names and values that broke servers
// before), with every kind of caller. Each stream owns two orgs and sends one request at a time,
// so the ledger read after a refused request must equal the one before it, exactly.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type JsonSchema = {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: Json[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  maxItems?: number
  pattern?: string
  format?: string
  anyOf?: JsonSchema[]
}

/** Every name on Object.prototype: as an action, a field, a label, an id, a query key. */
const protoNames = Object.getOwnPropertyNames(Object.prototype)

/** Values that broke servers before: prototype names, NUL, lone surrogates, traversal, markup. */
const hostileStrings: string[] = [
  ...protoNames,
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufffe',
  '\u202e',
  '../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%',
  '%E0%A4%A',
  '%ff%fe',
  '<script>alert(1)</script>',
  'javascript:alert(1)',
  "' or 1=1 --",
  '$'.concat('{jndi:ldap://x}'),
  '{{7*7}}',
  '\r\nSet-Cookie: x=y',
  'x'.repeat(70),
  'x'.repeat(300),
  'y'.repeat(5_000),
  'é'.repeat(200),
  '🙂'.repeat(40),
  '1e999',
  '-1',
  'NaN',
  'null',
]
const hostileNumbers: Json[] = [
  -1,
  -0,
  0,
  0.5,
  -10_000,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  1e21,
  Number.MAX_SAFE_INTEGER,
]
export const hostileValues: Json[] = [
  ...hostileStrings,
  ...hostileNumbers,
  null,
  true,
  false,
  [],
  {},
  [1, 2],
  { __proto__: 1 } as unknown as Json,
  { constructor: { prototype: { polluted: true } } },
]
/** Raw bodies JSON.stringify cannot write: numbers beyond doubles, deep nesting, broken JSON. */
const rawBodies: string[] = [
  '{"action":"x","quantity":123456789012345678901234567890}',
  '{"size":1e400}',
  '{"title":"a","priority":-0.0000000001}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`,
  '{"title":"t","__proto__":{"admin":true}}',
  '{"__proto__":{"toString":"x"},"action":"toString"}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"title":"t","title":"u"}',
  '{',
  '{"a":1,}',
  "{'a':1}",
  '[]',
  '"string"',
  '42',
  'null',
  'true',
  '\u0000',
  '{"title":"\\u0000"}',
  '{"title":"\\ud800"}',
  '{"label":"\\udfff"}',
  `{"title":"${'a'.repeat(70_000)}"}`,
  `{"checkpoint":"${'b'.repeat(60_000)}","lease_token":"x"}`,
]
const contentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/json; charset=latin1',
  'application/xml',
  '',
  'application/json',
  'application/json',
]
const encodings = ['gzip', 'br', 'deflate', 'identity', 'compress', 'x-unknown', 'gzip, gzip']
const badKeys = [
  '',
  'Bearer',
  `tg_live_${'x'.repeat(32)}`,
  `tg_sess_${'y'.repeat(32)}`,
  `tg_live_${'x'.repeat(500)}`,
  'tg_live_constructor',
  '__proto__',
  'Basic dXNlcjpwYXNz',
  'Bearer \u00ff',
]
const badIdempotencyKeys = ['', ' ', 'has space', 'a/b', '"q"', 'x'.repeat(256), '__proto__', 'é']
/** Paths no operation serves: traversal, percent garbage, wrong prefixes. */
const strayPaths = [
  '/v1/',
  '/v1/../etc/passwd',
  '/v1/%2e%2e/%2e%2e/etc/passwd',
  '/v1/issues/%',
  '/v1/issues/%E0%A4%A',
  '/v1/issues/%00',
  '/v1/keys/%',
  '/v1/issues/x/labels/%',
  '/v1/issues/%ff/labels/%fe',
  '/v1/constructor',
  '/v1/__proto__',
  '/v1/toString',
  '/v1/issues/constructor/comments',
  '/v1/orgs/__proto__/admins',
  '/v2/issues',
  '/V1/ISSUES',
  '/v1//issues',
  '/v1/issues/',
  '/v1/usage/',
  '//v1/usage',
  '/v1/usage;x=1',
  '/v1/billing/transactions/../../keys',
  `/v1/issues/${'a'.repeat(5_000)}`,
  '/.env',
  '/s/%',
]
const methods = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT']

/** fast-check arbitraries from a JSON Schema (the subset `z.toJSONSchema` writes for our routes). */
export function arbitraryOf(s: JsonSchema): fc.Arbitrary<Json> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map(arbitraryOf))
  if (s.enum) return fc.constantFrom(...s.enum)
  switch (s.type) {
    case 'object': {
      const props = Object.entries(s.properties ?? {})
      return fc.record(Object.fromEntries(props.map(([k, v]) => [k, arbitraryOf(v)])), {
        requiredKeys: s.required ?? [],
      }) as fc.Arbitrary<Json>
    }
    case 'array':
      return fc.array(arbitraryOf(s.items ?? {}), { maxLength: Math.min(s.maxItems ?? 5, 5) })
    case 'integer':
      return fc.integer({
        min: Math.max(s.minimum ?? -1_000, -(2 ** 31)),
        max: Math.min(s.maximum ?? 1_000, 2 ** 31),
      })
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'string':
      if (s.format === 'uuid') return fc.uuid()
      if (s.format === 'date-time')
        return fc
          .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString())
      if (s.format === 'uri')
        return fc.constantFrom('https://example.com/a.txt', 'http://localhost/x', 'https://a.b/c?d')
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern))
      return fc.string({
        minLength: s.minLength ?? 0,
        maxLength: Math.max(s.minLength ?? 0, Math.min(s.maxLength ?? 40, 40)),
      })
    default:
      return fc.constant(null)
  }
}

const schemas = new WeakMap<z.ZodType, JsonSchema>()
const jsonSchema = (s: z.ZodType) => {
  if (!schemas.has(s))
    schemas.set(s, z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonSchema)
  return schemas.get(s)!
}

/** The ways a request departs from a valid one. */
type Plan = {
  op: number
  role: number
  kind:
    | 'valid'
    | 'drop'
    | 'wrongType'
    | 'hostileField'
    | 'extraField'
    | 'rawBody'
    | 'hostileParam'
    | 'hostileQuery'
    | 'contentType'
    | 'encoding'
    | 'bigHeader'
    | 'idempotency'
    | 'replay'
    | 'stray'
  body: Json
  query: Json
  field: number
  value: Json
  pick: number
  text: string
}

/** The request plans for one operation: its valid body (by its schema) and every departure. */
function planArbitrary(index: number, roles: number): fc.Arbitrary<Plan> {
  const op = operations[index]!
  const body = op.body
    ? arbitraryOf(jsonSchema(op.body)).filter((v) => op.body!.safeParse(v).success)
    : fc.constant(null)
  return fc.record({
    op: fc.constant(index),
    role: fc.nat(roles - 1),
    kind: fc.constantFrom<Plan['kind']>(
      'valid',
      'valid',
      'valid',
      'drop',
      'wrongType',
      'hostileField',
      'hostileField',
      'extraField',
      'rawBody',
      'hostileParam',
      'hostileQuery',
      'contentType',
      'encoding',
      'bigHeader',
      'idempotency',
      'replay',
      'stray',
    ),
    body,
    query: op.query ? arbitraryOf(jsonSchema(op.query)) : fc.constant(null),
    field: fc.nat(50),
    value: fc.oneof(
      fc.constantFrom(...hostileValues),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
    ),
    pick: fc.nat(1_000),
    text: fc.oneof(
      fc.constantFrom(...hostileStrings),
      fc.string({ unit: 'binary', maxLength: 20 }),
    ),
  })
}

type Answer = { status: number; body: string; dropped?: string }

/** One HTTP request on a raw socket path (no URL normalisation), with any headers. */
function send(
  agent: http.Agent,
  base: URL,
  r: { method: string; path: string; headers: Record<string, string>; body?: Buffer | string },
): Promise<Answer> {
  return new Promise((resolve) => {
    let req: http.ClientRequest
    try {
      req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: r.method,
          path: r.path,
          headers: {
            ...r.headers,
            ...(r.body !== undefined ? { 'content-length': Buffer.byteLength(r.body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          )
          res.on('error', (e) =>
            resolve({ status: res.statusCode ?? 0, body: '', dropped: e.message }),
          )
        },
      )
    } catch (e) {
      // The client itself refuses (a character node will not put in a path or header): not sent.
      resolve({ status: -1, body: String(e) })
      return
    }
    req.on('error', (e: NodeJS.ErrnoException) =>
      // A kept-alive socket the server closed as it idled, just as this request went out: not
      // the server dropping the request (node's documented race); the request is sent again.
      req.reusedSocket && e.code === 'ECONNRESET'
        ? resolve(send(agent, base, r))
        : resolve({ status: 0, body: '', dropped: `${e.message} (${e.code})` }),
    )
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')))
    req.end(r.body)
  })
}

type Caller = { name: string; authorization?: string; cookie?: string; origin?: string }
type Stream = {
  callers: Caller[]
  orgA: string
  orgB: string
  keyA: string
  issues: string[]
  foreignIssue: string
  /** A key of org A that DELETE /v1/keys/{id} may revoke (never the one the stream uses). */
  spareKeyId: string
  leaseTokens: Map<string, string>
  /** Webhook endpoints the stream registered (their ids, for the routes under them). */
  endpoints: string[]
  labels: string[]
  sentKeys: { key: string; method: string; path: string; body: string }[]
  actions: string[]
}

export type FuzzOptions = {
  /** The API's base URL (a function when the server may be restarted on another port). */
  url: string | (() => string)
  /** The API's database, to read the ledger before and after each refused request. */
  sql: Sql
  requests: number
  /** Independent sequential streams, each with its own two orgs. */
  streams?: number
  seed?: number
  /** PUBLIC_BASE_URL's host, for sign-in messages. */
  host: string
  /** The rate card's action names (valid `/v1/usage` actions). */
  actions: string[]
  /** Called every `progressEvery` requests. */
  progress?: (r: FuzzResult) => void
  progressEvery?: number
  /** A dropped connection: whether the server process is still up (script: a child process). */
  onDropped?: () => Promise<void>
}

export type FuzzResult = {
  requests: number
  serverErrors: number
  dropped: number
  ledgerChanges: number
  /** 4xx answers not in the `{"error":{"code","message"}}` envelope. */
  badEnvelopes: number
  /** Answers `/openapi.json` does not describe (status, code or body). */
  undocumented: number
  statuses: Record<string, number>
  /** Per operation: how many answers were successes and how many refusals (4xx). */
  byOperation: Record<string, { ok: number; refused: number }>
  /** The first failures of each kind, for the report. */
  failures: string[]
}

export const ledgerOf = (sql: Sql, orgs: string[]) => sql`
  select b.org_id, b.voucher::text, b.accrued::text, b.reserved::text, b.reserved_voucher::text,
         b.booked::text, b.collected::text, b.entry_seq::text, b.spend_window_spent::text,
         (select count(*) from usage u where u.org_id = b.org_id)::int as usage
  from billing_accounts b where b.org_id in ${sql(orgs)} order by b.org_id`

/**
 * Runs `requests` generated requests against the API at `url` and counts what went wrong:
 * 5xx answers, dropped connections, 4xx without the envelope, refused requests that changed
 * the ledger, and answers the OpenAPI document does not describe.
 */
export async function fuzzApi(o: FuzzOptions): Promise<FuzzResult> {
  const base = () => new URL(typeof o.url === 'string' ? o.url : o.url())
  const streamCount = o.streams ?? 8
  const result: FuzzResult = {
    requests: 0,
    serverErrors: 0,
    dropped: 0,
    ledgerChanges: 0,
    badEnvelopes: 0,
    undocumented: 0,
    statuses: {},
    byOperation: {},
    failures: [],
  }
  // The first of each kind of failure (kind: what failed, on which operation, with which status).
  const seen = new Set<string>()
  const fail = (kind: string, detail: string) => {
    if (seen.has(kind) || seen.size >= 100) return
    seen.add(kind)
    result.failures.push(`${kind}: ${detail}`.slice(0, 600))
  }
  let next = 0
  let nextProgress = o.progressEvery ?? 10_000
  const runStream = async (s: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const call = async (method: string, path: string, p: { key?: string; body?: unknown } = {}) => {
      const a = await send(agent, base(), {
        method,
        path,
        headers: {
          ...(p.key ? { authorization: `Bearer ${p.key}` } : {}),
          ...(p.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: p.body === undefined ? undefined : JSON.stringify(p.body),
      })
      if (a.status < 200 || a.status >= 300)
        throw new Error(
          `fuzz set-up: ${method} ${path} answered ${a.status} ${a.body} ${a.dropped ?? ''}`,
        )
      return JSON.parse(a.body)
    }
    const stream = await setUp(call, o)
    const roles = stream.callers.length
    const arbs = fc.oneof(...operations.map((_, i) => planArbitrary(i, roles)))
    let ledger = JSON.stringify(await ledgerOf(o.sql, [stream.orgA, stream.orgB]))
    let chunk = 0
    while (next < o.requests) {
      const plans = fc.sample(arbs, {
        numRuns: 200,
        seed: (o.seed ?? 1) * 1_000 + s * 97 + chunk++,
      })
      for (const plan of plans) {
        if (next >= o.requests) break
        next++
        const r = build(plan, stream, o)
        const a = await send(agent, base(), r)
        if (a.status === -1) continue
        result.requests++
        result.statuses[a.status] = (result.statuses[a.status] ?? 0) + 1
        const what = `${r.method} ${r.path.slice(0, 120)} (${plan.kind}, ${stream.callers[plan.role]!.name}) ${r.body === undefined ? '' : String(r.body).slice(0, 120)}`
        if (a.dropped !== undefined) {
          result.dropped++
          fail(`dropped ${r.method} ${r.path.slice(0, 40)}`, `${what} → ${a.dropped}`)
          await o.onDropped?.()
        }
        const op = r.op
        if (op) {
          result.byOperation[operationKey(op)] ??= { ok: 0, refused: 0 }
          const tally = result.byOperation[operationKey(op)]!
          if (op.success.includes(a.status)) tally.ok++
          else if ((a.status >= 400 && a.status < 500) || noChain(op, a)) tally.refused++
        }
        // A stray method may land on another operation of the same path.
        const served =
          op ?? operations.find((o) => o.method.toUpperCase() === r.method && o.path === r.path)
        if (a.status >= 500 && !op?.success.includes(a.status) && !(served && noChain(served, a))) {
          result.serverErrors++
          fail(
            `5xx ${r.method} ${op ? op.path : r.path.slice(0, 40)} ${a.status}`,
            `${what} → ${a.status} ${a.body.slice(0, 200)}`,
          )
        }
        let json: unknown
        try {
          json = JSON.parse(a.body)
        } catch {
          json = undefined
        }
        if (a.status >= 400 && a.status < 500 && !errorBody.safeParse(json).success) {
          result.badEnvelopes++
          fail(`envelope ${a.status}`, `${what} → ${a.status} ${a.body.slice(0, 200)}`)
        }
        // (A 5xx is counted once, above.)
        const why = op && a.status > 0 && a.status < 500 ? undocumented(op, a.status, json) : ''
        if (op && why) {
          result.undocumented++
          fail(
            `undocumented ${operationKey(op)} ${a.status}`,
            `${what} → ${a.status} [${why}] ${a.body.slice(0, 200)}`,
          )
        }
        // Learn from what worked: lease tokens for wind-down, labels to remove.
        if (a.status >= 200 && a.status < 300) remember(stream, op, json)
        const after = JSON.stringify(await ledgerOf(o.sql, [stream.orgA, stream.orgB]))
        if (a.status >= 400 && a.status < 500 && after !== ledger) {
          result.ledgerChanges++
          fail(
            'ledger',
            `${what} → ${a.status} ${a.body.slice(0, 200)}\n  before ${ledger}\n  after  ${after}`,
          )
        }
        ledger = after
        if (o.progress && result.requests >= nextProgress) {
          nextProgress += o.progressEvery ?? 10_000
          o.progress(result)
        }
      }
    }
    agent.destroy()
  }
  await Promise.all(Array.from({ length: streamCount }, (_, s) => runStream(s)))
  return result
}

/** Why `/openapi.json` does not describe this answer (its status, code or body); '' if it does. */
function undocumented(op: Operation, status: number, json: unknown): string {
  if (op.success.includes(status)) {
    const parsed = responses[operationKey(op)].safeParse(json)
    return parsed.success
      ? ''
      : parsed.error.issues
          .slice(0, 2)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')
  }
  const code = (json as { error?: { code?: string } } | undefined)?.error?.code
  return errorsOf(op).some((c) => c === code && errorStatus[c] === status)
    ? ''
    : `status ${status} with ${code} is not documented`
}

function remember(stream: Stream, op: Operation | undefined, json: unknown) {
  const j = json as { issue?: { id?: string; lease?: { token?: string } | null }; label?: string }
  const token = j?.issue?.lease?.token
  if (j?.issue?.id && token) stream.leaseTokens.set(j.issue.id, token)
  if (op?.path === '/v1/issues' && op.method === 'post' && j?.issue?.id)
    stream.issues = [...stream.issues.slice(-9), j.issue.id]
  if (typeof j?.label === 'string' && stream.labels.length < 50) stream.labels.push(j.label)
  const endpoint = (json as { endpoint?: { id?: unknown } } | undefined)?.endpoint?.id
  if (op?.path === '/v1/webhooks/endpoints' && op.method === 'post' && endpoint !== undefined)
    stream.endpoints = [...stream.endpoints.slice(-9), String(endpoint)]
  if (op?.path === '/v1/webhooks/endpoints/{id}' && op.method === 'delete')
    stream.endpoints = stream.endpoints.filter((id) => id !== String(endpoint))
}

/** Orgs, credentials and issues for one stream, made through the API itself. */
async function setUp(
  // biome-ignore lint/suspicious/noExplicitAny: set-up reads the API's answers loosely
  call: (method: string, path: string, p?: { key?: string; body?: unknown }) => Promise<any>,
  o: FuzzOptions,
): Promise<Stream> {
  const ownerA = privateKeyToAccount(generatePrivateKey())
  const adminA = privateKeyToAccount(generatePrivateKey())
  const ownerB = privateKeyToAccount(generatePrivateKey())
  const a = await call('POST', '/v1/orgs', {
    body: { name: 'fuzz A', owner_address: ownerA.address },
  })
  const b = await call('POST', '/v1/orgs', {
    body: { name: 'fuzz B', owner_address: ownerB.address },
  })
  const signIn = async (wallet: typeof ownerA) => {
    const { nonce } = await call('GET', '/v1/auth/nonce')
    const message = siweMessage(wallet.address, nonce, o.host)
    return (
      await call('POST', '/v1/auth/siwe', {
        body: { message, signature: await wallet.signMessage({ message }) },
      })
    ).token as string
  }
  const owner = await signIn(ownerA)
  await call('POST', '/v1/admins', { key: owner, body: { address: adminA.address } })
  const admin = await signIn(adminA)
  const keyA = a.api_key as string
  const session = (
    await call('POST', '/v1/session-keys', { key: keyA, body: { ttl_seconds: 3600 } })
  ).session_key as string
  const spare = await call('POST', '/v1/keys', { key: owner, body: { label: 'spare' } })
  const issues: string[] = []
  for (const title of ['one', 'two', 'three'])
    issues.push(
      (await call('POST', '/v1/issues', { key: keyA, body: { title, labels: ['bug'] } })).issue.id,
    )
  const foreignIssue = (await call('POST', '/v1/issues', { key: b.api_key, body: { title: 'B' } }))
    .issue.id as string
  const bearer = (name: string, token: string): Caller => ({
    name,
    authorization: `Bearer ${token}`,
  })
  return {
    callers: [
      { name: 'anonymous' },
      bearer('member key', keyA),
      bearer('member key', keyA),
      bearer('session key', session),
      bearer('owner session', owner),
      bearer('admin session', admin),
      { name: 'owner cookie', cookie: `tg_session=${owner}` },
      {
        name: 'owner cookie, other site',
        cookie: `tg_session=${owner}`,
        origin: 'https://evil.test',
      },
      bearer("another org's key", b.api_key),
      { name: 'bad credential', authorization: `Bearer ${badKeys[0]}` },
    ],
    orgA: a.org.id,
    orgB: b.org.id,
    keyA,
    issues,
    foreignIssue,
    spareKeyId: spare.key.id,
    leaseTokens: new Map(),
    endpoints: [],
    labels: ['bug'],
    sentKeys: [],
    actions: o.actions,
  }
}

/** Percent-encoding that also writes lone surrogates (as WTF-8 bytes, which are not UTF-8). */
const pct = (s: string) =>
  s.replace(/[^A-Za-z0-9_.~-]/gu, (c) => {
    const u = c.codePointAt(0)!
    if (u < 0xd800 || u > 0xdfff) return encodeURIComponent(c)
    const bytes = [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)]
    return bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('')
  })

const at = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!

/** A valid value for a path parameter, from what the stream owns. */
function validParam(name: string, op: Operation, stream: Stream, pick: number): string {
  if (name === 'label') return encodeURIComponent(at(stream.labels, pick))
  if (op.path.startsWith('/v1/orgs/')) return stream.orgA
  if (op.path.startsWith('/v1/keys/')) return stream.spareKeyId
  if (name === 'month') return new Date().toISOString().slice(0, 7)
  if (name === 'scope') return 'org'
  if (name === 'period') return at(['day', 'week', 'month'], pick)
  // (a deleted endpoint leaves the list, so the routes under it mostly find one that exists)
  if (op.path.startsWith('/v1/webhooks/endpoints/') && stream.endpoints.length)
    return at(stream.endpoints, pick)
  // Mostly the stream's issues; sometimes another org's (a 404, never a charge).
  return pick % 7 === 0 ? stream.foreignIssue : issueFor(op, stream, pick)
}

/** The issue a request is about: for lease wind-down, mostly one the stream holds a lease on. */
function issueFor(op: Operation, stream: Stream, pick: number): string {
  const leased = [...stream.leaseTokens.keys()]
  return /heartbeat|checkpoint|release/.test(op.path) && leased.length && pick % 4 !== 0
    ? at(leased.slice(-5), pick)
    : at(stream.issues, pick)
}

/** Fields the schema cannot make valid on its own: addresses, ids, tokens, actions. */
function fixBody(op: Operation, body: Json, stream: Stream, pick: number): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body
  const b = { ...body }
  if ('owner_address' in b || op.path.includes('admins'))
    b[op.path === '/v1/orgs' ? 'owner_address' : 'address'] = `0x${randomBytes(20).toString('hex')}`
  if ('to' in b) b.to = at(stream.issues, pick + 1)
  if ('org_id' in b) b.org_id = pick % 2 ? stream.orgA : stream.orgB
  if ('lease_token' in b) {
    b.lease_token = stream.leaseTokens.get(issueFor(op, stream, pick)) ?? (b.lease_token as string)
  }
  if (op.path.startsWith('/v1/usage')) {
    b.action = at(stream.actions, pick)
    delete b.lease_claimed_at
  }
  return b
}

type Built = {
  method: string
  path: string
  headers: Record<string, string>
  body?: Buffer | string
  /** The operation it targets, when it is one (method and route as documented). */
  op?: Operation
}

/** Turns a plan into bytes on the wire. */
function build(plan: Plan, stream: Stream, o: FuzzOptions): Built {
  const op = operations[plan.op]!
  const caller = stream.callers[plan.role]!
  const headers: Record<string, string> = {}
  if (caller.authorization) headers.authorization = caller.authorization
  if (caller.cookie) headers.cookie = caller.cookie
  if (caller.origin) headers.origin = caller.origin
  if (caller.name === 'bad credential') headers.authorization = `Bearer ${at(badKeys, plan.pick)}`

  const paths = [op.path, ...(op.aliases ?? [])]
  let path = at(paths, plan.pick).replace(/\{(\w+)\}/g, (_, name: string) =>
    plan.kind === 'hostileParam' && (plan.pick % 2 === 0 || name === 'label')
      ? pct(plan.text).replace(/%25/g, plan.pick % 3 === 0 ? '%' : '%25')
      : validParam(name, op, stream, plan.pick),
  )
  if (plan.kind === 'hostileParam' && plan.pick % 2 === 1)
    path = path.replace(
      /[0-9a-f-]{36}/,
      // Raw: `%` garbage and `../` stay as they are; what a path cannot hold is encoded.
      at(hostileStrings, plan.pick).replace(/[^\x21-\x7e]|[?#]/gu, (c) => pct(c)),
    )

  const query = new URLSearchParams()
  if (op.query && plan.kind !== 'hostileQuery') {
    for (const [k, v] of Object.entries((plan.query ?? {}) as Record<string, Json>))
      if (v !== undefined && plan.pick % 4 !== 0) query.set(k, String(v))
  }
  let qs = query.toString()
  if (plan.kind === 'hostileQuery') {
    const name = at(
      [...protoNames, 'status', 'type', 'limit', 'label', 'size', 'before'],
      plan.pick,
    )
    const value = pct(plan.text)
    qs = at(
      [
        `${name}=${value}`,
        `${name}[]=x`,
        `${name}[a]=b`,
        `${name}=1&${name}=2`,
        `limit=1&limit=2`,
        `status[a]=b`,
        `type[]=x`,
        `label=%00`,
        `label=%`,
        `before=%E0%A4%A`,
        `${'a'.repeat(3_000)}=1`,
        `limit=1e400`,
        `size=-1`,
        `__proto__[x]=1`,
        `constructor[prototype][x]=1`,
      ],
      plan.pick,
    )
  }
  if (qs) path += `?${qs}`

  let method = op.method.toUpperCase()
  let target: Operation | undefined = op
  if (plan.kind === 'stray') {
    target = undefined
    if (plan.pick % 2) path = at(strayPaths, plan.pick)
    else
      method = at(
        methods.filter((m) => m !== method),
        plan.pick,
      )
  }

  let body: Json | undefined = op.body ? fixBody(op, plan.body, stream, plan.pick) : undefined
  const fields =
    body && typeof body === 'object' && !Array.isArray(body)
      ? Object.keys(op.body ? (jsonSchema(op.body).properties ?? {}) : {})
      : []
  const field = fields.length ? at(fields, plan.field) : undefined
  let raw: string | Buffer | undefined
  const obj = body as Record<string, Json>
  switch (plan.kind) {
    case 'drop':
      if (field) delete obj[field]
      break
    case 'wrongType':
      if (field)
        obj[field] =
          typeof obj[field] === 'string'
            ? at(hostileNumbers, plan.pick)
            : at(hostileStrings, plan.pick)
      else body = plan.value
      break
    case 'hostileField':
      if (field) obj[field] = plan.pick % 2 ? plan.text : plan.value
      else body = plan.value
      break
    case 'extraField':
      if (obj && typeof obj === 'object') obj[at(protoNames, plan.pick)] = plan.value
      else body = { [at(protoNames, plan.pick)]: plan.value }
      break
    case 'rawBody':
      raw = at(rawBodies, plan.pick)
      break
  }
  // `__proto__` as an own key: JSON.stringify drops a prototype set through assignment.
  if (raw === undefined && body !== undefined) raw = JSON.stringify(body)
  if (raw === undefined && plan.kind !== 'valid' && plan.pick % 5 === 0)
    raw = JSON.stringify(plan.value)
  if (raw !== undefined) headers['content-type'] = 'application/json'

  if (plan.kind === 'contentType') {
    headers['content-type'] = at(contentTypes, plan.pick)
    if (!headers['content-type']) delete headers['content-type']
    raw ??= '{}'
    if (plan.pick % 3 === 0) raw = `a=1&b=${pct(plan.text)}`
  }
  if (plan.kind === 'encoding') {
    headers['content-encoding'] = at(encodings, plan.pick)
    raw ??= '{}'
    // Now and then a body that really is gzipped (which must be read as the JSON it holds).
    if (plan.pick % 4 === 0 && headers['content-encoding'] === 'gzip') raw = gzipSync(raw)
  }
  if (plan.kind === 'bigHeader') headers['x-padding'] = 'p'.repeat(plan.pick % 2 ? 17_000 : 20_000)
  if (plan.kind === 'idempotency') headers['idempotency-key'] = at(badIdempotencyKeys, plan.pick)
  if (plan.kind === 'replay' && method !== 'GET') {
    // The same key again: for the same request (a replay) or for another (a conflict).
    const prior =
      stream.sentKeys.length && plan.pick % 2 ? at(stream.sentKeys, plan.pick) : undefined
    if (prior && plan.pick % 4 === 1) {
      method = prior.method
      path = prior.path
      raw = prior.body
      target = operations.find((x) => x.method.toUpperCase() === method && pathMatches(x, path))
    }
    const key = prior?.key ?? `fz-${randomBytes(8).toString('hex')}`
    headers['idempotency-key'] = key
    if (!prior && stream.sentKeys.length < 200)
      stream.sentKeys.push({ key, method, path, body: typeof raw === 'string' ? raw : '' })
  }
  if (o.host && plan.pick % 50 === 0) headers.host = o.host
  // A hostile id that empties or splits its segment (`/v1/issues/`, `../x`) is another route.
  if (target && !pathMatches(target, path)) target = undefined
  return { method, path, headers, body: raw, op: target }
}

/** Whether a concrete path (query aside) is one of the operation's paths. */
function pathMatches(op: Operation, path: string) {
  const p = path.split('?')[0]!
  return [op.path, ...(op.aliases ?? [])].some((t) =>
    new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`).test(p),
  )
}

/**
 * The fuzzed API runs with no chain: an operation that documents NO_CHAIN answers it with 503,
 * a documented refusal, not a server error.
 */
const noChain = (op: Operation, a: { status: number; body: string }) =>
  a.status === 503 && errorsOf(op).includes('NO_CHAIN') && a.body.includes('"NO_CHAIN"')
