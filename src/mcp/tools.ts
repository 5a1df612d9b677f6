import { z } from 'zod'
import { formatUsd, type RateCard, unitPrice } from '../ledger/index.js'
import { issueStatus } from '../queue/schemas.js'

// The spec's actions as MCP tools: each names the operation (`METHOD /path`) whose action it
// calls, and how its arguments become that operation's path parameters, body and query. The
// argument schemas repeat only the shapes; `runAction` parses again with the operation's own
// schema, so a tool accepts exactly what its route accepts.

/** A call of one operation, built from a tool's arguments. */
export type Routed = {
  key: string
  params: Record<string, string>
  body: Record<string, unknown> | undefined
  query: Record<string, unknown>
}

export type ActionTool = {
  name: string
  description: (card: RateCard) => string
  input: z.ZodObject
  /** A write: metered, and idempotent by `idempotency_key` (else the MCP request id). */
  write: boolean
  route: (args: Record<string, unknown>) => Routed
}

/** A price from the live rate card, as the description says it ("$0.007"). */
export const priceOf = (card: RateCard, action: string) => {
  const p = unitPrice(card, action)
  return p === undefined ? 'free' : formatUsd(p)
}

const uuid = z.uuid().describe('the issue id')
const leaseSeconds = z.number().int().min(5).max(3600).optional().describe('lease length (300)')
const leaseToken = z.string().min(1).max(128).describe('the lease token the claim returned')
const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,255}$/)
  .optional()
  .describe(
    'a retry with the same key returns the first outcome and is charged once (default: the MCP request id)',
  )

/** `{ ...rest }` of the arguments without the ones that go elsewhere. */
const without = (args: Record<string, unknown>, ...names: string[]) => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(args)) if (!names.includes(k) && v !== undefined) out[k] = v
  return out
}
const read = (key: string, params: Record<string, string> = {}, query = {}): Routed => ({
  key,
  params,
  body: undefined,
  query,
})
const write = (key: string, args: Record<string, unknown>, ...pathArgs: string[]): Routed => ({
  key,
  params: Object.fromEntries(pathArgs.map((p) => [p, String(args[p])])),
  body: without(args, 'idempotency_key', ...pathArgs),
  query: {},
})

const tool = (t: Omit<ActionTool, 'input'> & { input: z.core.$ZodLooseShape }): ActionTool => ({
  ...t,
  input: z.strictObject(t.write ? { ...t.input, idempotency_key: idempotencyKey } : t.input),
})

const free = 'Free (a read).'

/** Every action of the spec, by its name. */
export const actionTools: ActionTool[] = [
  tool({
    name: 'whoami',
    description: () => `The caller: org, key, role, wallet. ${free}`,
    input: {},
    write: false,
    route: () => read('GET /v1/whoami'),
  }),
  tool({
    name: 'list_issues',
    description: () => `Issues of the org, newest first (filter by status or label). ${free}`,
    input: {
      status: issueStatus.optional(),
      label: z.string().min(1).max(64).optional(),
      limit: z.number().int().min(1).max(200).optional(),
      before: z.iso.datetime({ offset: true }).optional().describe('the `next` of a page'),
    },
    write: false,
    route: (a) => read('GET /v1/issues', {}, a),
  }),
  tool({
    name: 'get_issue',
    description: () => `One issue with its comments, labels, relations and attachments. ${free}`,
    input: { id: uuid },
    write: false,
    route: (a) => read('GET /v1/issues/{id}', { id: String(a.id) }),
  }),
  tool({
    name: 'list_comments',
    description: () => `The comments of an issue. ${free}`,
    input: { id: uuid },
    write: false,
    route: (a) => read('GET /v1/issues/{id}/comments', { id: String(a.id) }),
  }),
  tool({
    name: 'queue_status',
    description: () => `Counts of open, in-progress, leased, done and ready issues. ${free}`,
    input: {},
    write: false,
    route: () => read('GET /v1/queue'),
  }),
  tool({
    name: 'check_claim',
    description: () => `Whether an issue is claimed, and by you. ${free}`,
    input: { id: uuid },
    write: false,
    route: (a) => read('GET /v1/issues/{id}/claim', { id: String(a.id) }),
  }),
  tool({
    name: 'next_issue',
    description: (c) =>
      `Claim the next ready issue under a lease (atomic, dependency-aware). Costs ${priceOf(c, 'next_issue')} when it hands you an issue; an empty poll is free.`,
    input: { lease_seconds: leaseSeconds },
    write: true,
    route: (a) => write('POST /v1/queue/next', a),
  }),
  tool({
    name: 'next_batch',
    description: (c) =>
      `Peek at the next ready issues (free), or with claim: true claim up to size of them under leases: ${priceOf(c, 'next_batch')} per issue claimed; an empty batch is free.`,
    input: {
      size: z.number().int().min(1).max(100).optional().describe('how many (peek: 10)'),
      claim: z.boolean().optional().describe('claim them (metered) instead of peeking (free)'),
      lease_seconds: leaseSeconds,
    },
    write: true,
    route: (a) =>
      a.claim === true
        ? write('POST /v1/queue/batch', without(a, 'claim'))
        : read('GET /v1/queue/batch', {}, a.size === undefined ? {} : { size: a.size }),
  }),
  tool({
    name: 'claim_issue',
    description: (c) =>
      `Claim one ready issue by id under a lease. Costs ${priceOf(c, 'claim_issue')}; refused (free) when it is already claimed.`,
    input: { id: uuid, lease_seconds: leaseSeconds },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/claim', a, 'id'),
  }),
  tool({
    name: 'save_issue',
    description: (c) =>
      `Create an issue (no id: ${priceOf(c, 'save_issue.create')}), or edit one (id): ${priceOf(c, 'save_issue.edit_body')} when the body changes, else ${priceOf(c, 'save_issue.edit_status')} for status, priority or title.`,
    input: {
      id: uuid.optional().describe('the issue to edit; absent to create one'),
      title: z.string().min(1).max(500).optional(),
      body: z.string().max(50_000).optional(),
      status: issueStatus.optional().describe('edit only'),
      priority: z.number().int().min(0).max(4).optional(),
      labels: z.array(z.string().min(1).max(64)).max(20).optional().describe('create only'),
    },
    write: true,
    route: (a) =>
      a.id === undefined ? write('POST /v1/issues', a) : write('PATCH /v1/issues/{id}', a, 'id'),
  }),
  tool({
    name: 'save_comment',
    description: (c) => `Comment on an issue. Costs ${priceOf(c, 'save_comment')}.`,
    input: { id: uuid, body: z.string().min(1).max(20_000) },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/comments', a, 'id'),
  }),
  tool({
    name: 'add_relation',
    description: (c) =>
      `Relate an issue to another (blocks: the other is not ready until this one is done). Costs ${priceOf(c, 'add_relation')}; free when it already exists.`,
    input: { id: uuid, to: z.uuid(), kind: z.enum(['blocks', 'relates']).optional() },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/relations', a, 'id'),
  }),
  tool({
    name: 'add_label',
    description: (c) =>
      `Label an issue. Costs ${priceOf(c, 'add_label')}; free when it has the label already.`,
    input: { id: uuid, label: z.string().min(1).max(64) },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/labels', a, 'id'),
  }),
  tool({
    name: 'remove_label',
    description: (c) =>
      `Remove a label from an issue. Costs ${priceOf(c, 'remove_label')}; free when it does not have it.`,
    input: { id: uuid, label: z.string().min(1).max(64) },
    write: true,
    route: (a) => ({
      key: 'DELETE /v1/issues/{id}/labels/{label}',
      params: { id: String(a.id), label: String(a.label) },
      body: undefined,
      query: {},
    }),
  }),
  tool({
    name: 'add_attachment',
    description: (c) =>
      `Attach a file's metadata (name, type, size, link) to an issue. Costs ${priceOf(c, 'add_attachment')}.`,
    input: {
      id: uuid,
      name: z.string().min(1).max(255),
      content_type: z.string().min(1).max(127),
      size_bytes: z.number().int().min(0),
      url: z.string().max(2048).optional(),
    },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/attachments', a, 'id'),
  }),
  tool({
    name: 'heartbeat',
    description: (c) =>
      `Keep your lease alive. Costs ${priceOf(c, 'heartbeat')}; never refused for billing on a lease claimed before the org was blocked (free then).`,
    input: { id: uuid, lease_token: leaseToken, lease_seconds: leaseSeconds },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/heartbeat', a, 'id'),
  }),
  tool({
    name: 'checkpoint',
    description: (c) =>
      `Save progress on a leased issue. Costs ${priceOf(c, 'checkpoint')}; never refused for billing on a lease claimed before the org was blocked (free then).`,
    input: { id: uuid, lease_token: leaseToken, checkpoint: z.string().max(50_000) },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/checkpoint', a, 'id'),
  }),
  tool({
    name: 'release_issue',
    description: (c) =>
      `Release your lease (status: done, or open to hand it back). Costs ${priceOf(c, 'release_issue')}; never refused for billing on a lease claimed before the org was blocked (free then).`,
    input: { id: uuid, lease_token: leaseToken, status: issueStatus.optional() },
    write: true,
    route: (a) => write('POST /v1/issues/{id}/release', a, 'id'),
  }),
  tool({
    name: 'mint_session_key',
    description: (c) =>
      `A short-lived agent key (tg_sess_…) under your key. Costs ${priceOf(c, 'mint_session_key')}; never refused (free while the org is blocked).`,
    input: { ttl_seconds: z.number().int().min(60).max(86_400).optional() },
    write: true,
    route: (a) => write('POST /v1/session-keys', a),
  }),
]
