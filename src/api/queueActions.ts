import { NotFoundError, ValidationError } from '../core/errors.js'
import { editAction } from '../ledger/index.js'
import {
  AlreadyClaimedError,
  addAttachment,
  addComment,
  addLabel,
  addRelation,
  claimReady,
  createIssue,
  editIssue,
  getIssue,
  getIssueDetail,
  hasLabel,
  hasRelation,
  isReady,
  issueView,
  leaseOf,
  listComments,
  listIssues,
  peekReady,
  queueStatus,
  removeLabel,
  windDown,
} from '../queue/queue.js'
import type { ActionReply, Actions } from './actions.js'
import type { Auth } from './auth.js'
import { metered, meteredUpTo, meteredView } from './metering.js'

const defaultLeaseSeconds = 300
const editFields = ['body', 'status', 'priority', 'title'] as const

/** Who holds a lease: the API key (a session key's parent), else the org. */
const holder = (auth: Auth) => auth.keyId ?? auth.orgId
const reply = (
  status: number,
  body: Record<string, unknown>,
  outcome: Parameters<typeof meteredView>[0],
): ActionReply => ({ status, body: { ...body, metered: meteredView(outcome) } })

/**
 * The reference work queue, one action per operation (keyed as in the operation table). Every
 * write is metered as its own durable step before the work (voided if the work fails); reads
 * are free. The HTTP routes (`actionRouter`) and the MCP tools (`runAction`) call these, with
 * the input parsed by the operation's schemas.
 */
export const queueActions = {
  // ---- issues
  'POST /v1/issues': async (ctx, auth, { body }) => {
    const sql = ctx.db.$client
    const { result, outcome } = await metered(ctx, auth, { action: 'save_issue.create' }, () =>
      createIssue(sql, auth.orgId, body),
    )
    return reply(201, { issue: issueView(result) }, outcome)
  },

  'GET /v1/issues': async (ctx, auth, { query: q }) => {
    const limit = q.limit ?? 50
    const rows = await listIssues(ctx.db.$client, auth.orgId, { ...q, limit })
    const last = rows.at(-1)
    return {
      status: 200,
      body: {
        issues: rows.map((i) => issueView(i)),
        next: last && rows.length === limit ? last.created_at.toISOString() : null,
      },
    }
  },

  'GET /v1/issues/{id}': async (ctx, auth, { params }) => {
    const { issue, ...rest } = await getIssueDetail(ctx.db.$client, auth.orgId, params.id)
    return { status: 200, body: { issue: { ...issueView(issue), ...rest } } }
  },

  'PATCH /v1/issues/{id}': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    await getIssue(sql, auth.orgId, issueId)
    // One save_issue edit, priced at the highest tier among the fields it touches. (Charged
    // even when the values are the ones already there: every edit writes a new version.)
    const action = editAction(
      ctx.config.rateCard,
      editFields.filter((f) => body[f] !== undefined),
    )
    const { result, outcome } = await metered(ctx, auth, { action }, () =>
      editIssue(sql, auth.orgId, issueId, body),
    )
    return reply(200, { issue: issueView(result) }, outcome)
  },

  'POST /v1/issues/{id}/comments': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    // Checked before metering, so a bad id never touches the ledger.
    await getIssue(sql, auth.orgId, issueId)
    const { result, outcome } = await metered(ctx, auth, { action: 'save_comment' }, () =>
      addComment(sql, auth.orgId, issueId, body.body),
    )
    return reply(201, { comment: result }, outcome)
  },

  'GET /v1/issues/{id}/comments': async (ctx, auth, { params }) => {
    const issue = await getIssue(ctx.db.$client, auth.orgId, params.id)
    return { status: 200, body: { comments: await listComments(ctx.db.$client, issue.id) } }
  },

  'POST /v1/issues/{id}/relations': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    await getIssue(sql, auth.orgId, issueId)
    await getIssue(sql, auth.orgId, body.to)
    if (body.to === issueId) throw new NotFoundError('an issue cannot relate to itself')
    const relation = { from: issueId, to: body.to, kind: body.kind }
    if (await hasRelation(sql, auth.orgId, relation)) return reply(201, { relation }, null)
    const { outcome } = await metered(ctx, auth, { action: 'add_relation' }, () =>
      addRelation(sql, auth.orgId, relation),
    )
    return reply(201, { relation }, outcome)
  },

  'POST /v1/issues/{id}/labels': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    await getIssue(sql, auth.orgId, issueId)
    if (await hasLabel(sql, auth.orgId, issueId, body.label))
      return reply(201, { label: body.label }, null)
    const { outcome } = await metered(ctx, auth, { action: 'add_label' }, () =>
      addLabel(sql, auth.orgId, issueId, body.label),
    )
    return reply(201, { label: body.label }, outcome)
  },

  'DELETE /v1/issues/{id}/labels/{label}': async (ctx, auth, { params }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    const label = params.label
    await getIssue(sql, auth.orgId, issueId)
    if (!(await hasLabel(sql, auth.orgId, issueId, label)))
      return reply(200, { removed: label }, null)
    const { outcome } = await metered(ctx, auth, { action: 'remove_label' }, () =>
      removeLabel(sql, auth.orgId, issueId, label),
    )
    return reply(200, { removed: label }, outcome)
  },

  'POST /v1/issues/{id}/attachments': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    if (body.url && new URL(body.url).protocol === 'http:' && ctx.config.env === 'production')
      throw new ValidationError('url: only https: links are accepted')
    await getIssue(sql, auth.orgId, issueId)
    const { result, outcome } = await metered(ctx, auth, { action: 'add_attachment' }, () =>
      addAttachment(sql, auth.orgId, issueId, body),
    )
    return reply(201, { attachment: result }, outcome)
  },

  // ---- leased dispatch
  'POST /v1/queue/next': async (ctx, auth, { body }) => {
    const { result, outcome } = await meteredUpTo(
      ctx,
      auth,
      { action: 'next_issue', quantity: 1 },
      async () => {
        const rows = await claimReady(ctx.db.$client, auth.orgId, {
          limit: 1,
          holder: holder(auth),
          leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        })
        return { result: rows, count: rows.length }
      },
    )
    return reply(200, { issue: result[0] ? issueView(result[0], true) : null }, outcome)
  },

  'GET /v1/queue/batch': async (ctx, auth, { query: q }) => {
    const rows = await peekReady(ctx.db.$client, auth.orgId, q.size ?? 10)
    return { status: 200, body: { issues: rows.map((i) => issueView(i)) } }
  },

  'POST /v1/queue/batch': async (ctx, auth, { body }) => {
    const { result, outcome } = await meteredUpTo(
      ctx,
      auth,
      { action: 'next_batch', quantity: body.size },
      async () => {
        const rows = await claimReady(ctx.db.$client, auth.orgId, {
          limit: body.size,
          holder: holder(auth),
          leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        })
        return { result: rows, count: rows.length }
      },
    )
    return reply(200, { issues: result.map((i) => issueView(i, true)) }, outcome)
  },

  'GET /v1/queue': async (ctx, auth) => ({
    status: 200,
    body: { queue: await queueStatus(ctx.db.$client, auth.orgId) },
  }),

  'POST /v1/issues/{id}/claim': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    await getIssue(sql, auth.orgId, issueId)
    // Refused before metering, so a claim that cannot succeed never touches the ledger (one that
    // loses a race to another agent after this read is voided, as any failed work is).
    if (!(await isReady(sql, auth.orgId, issueId))) throw new AlreadyClaimedError()
    const { result, outcome } = await metered(ctx, auth, { action: 'claim_issue' }, async () => {
      const rows = await claimReady(sql, auth.orgId, {
        limit: 1,
        holder: holder(auth),
        leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        issueId,
      })
      if (!rows[0]) throw new AlreadyClaimedError()
      return rows[0]
    })
    return reply(200, { issue: issueView(result, true) }, outcome)
  },

  'GET /v1/issues/{id}/claim': async (ctx, auth, { params }) => {
    const issue = await getIssue(ctx.db.$client, auth.orgId, params.id)
    const live = issue.lease_expires_at !== null && issue.lease_expires_at > new Date()
    return {
      status: 200,
      body: {
        claimed: live,
        mine: live && issue.lease_holder === holder(auth),
        claimed_at: live ? issue.lease_claimed_at : null,
        expires_at: live ? issue.lease_expires_at : null,
      },
    }
  },

  // Lease wind-down: never refused for billing, as long as the lease predates the block.
  'POST /v1/issues/{id}/heartbeat': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    const lease = await leaseOf(sql, auth.orgId, issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      auth,
      { action: 'heartbeat', leaseClaimedAt: lease.lease_claimed_at },
      () =>
        windDown(sql, auth.orgId, issueId, body.lease_token, {
          extendSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        }),
    )
    return reply(200, { issue: issueView(result) }, outcome)
  },

  'POST /v1/issues/{id}/checkpoint': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    const lease = await leaseOf(sql, auth.orgId, issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      auth,
      { action: 'checkpoint', leaseClaimedAt: lease.lease_claimed_at },
      () => windDown(sql, auth.orgId, issueId, body.lease_token, { checkpoint: body.checkpoint }),
    )
    return reply(200, { issue: issueView(result) }, outcome)
  },

  'POST /v1/issues/{id}/release': async (ctx, auth, { params, body }) => {
    const sql = ctx.db.$client
    const issueId = params.id
    const lease = await leaseOf(sql, auth.orgId, issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      auth,
      { action: 'release_issue', leaseClaimedAt: lease.lease_claimed_at },
      () =>
        windDown(sql, auth.orgId, issueId, body.lease_token, {
          release: { status: body.status ?? 'open' },
        }),
    )
    return reply(200, { issue: issueView(result) }, outcome)
  },
} satisfies Actions
