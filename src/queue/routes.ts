import { type Request, type Response, Router } from 'express'
import { authOf } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { metered, meteredUpTo, meteredView } from '../api/metering.js'
import { NotFoundError, ValidationError } from '../errors.js'
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
} from './queue.js'
import {
  attachmentBody,
  batchBody,
  batchQuery,
  checkpointBody,
  claimBody,
  commentBody,
  createIssueBody,
  editIssueBody,
  labelBody,
  leaseBody,
  listQuery,
  relationBody,
  releaseBody,
  uuidParam,
} from './schemas.js'

const defaultLeaseSeconds = 300
const editFields = ['body', 'status', 'priority', 'title'] as const

/**
 * The reference work queue under `/v1` (auth already required). Every write is metered as its
 * own durable step before the work (voided if the work fails); reads are free.
 */
export function queueRouter(ctx: AppContext): Router {
  const r = Router()
  const sql = ctx.db.$client
  const id = (req: Request) => uuidParam.parse(req.params.id)
  const org = (res: Response) => authOf(res).orgId
  const holder = (res: Response) => authOf(res).keyId ?? authOf(res).orgId
  const send = (
    res: Response,
    status: number,
    body: object,
    outcome: Parameters<typeof meteredView>[0],
  ) => res.status(status).json({ ...body, metered: meteredView(outcome) })

  // ---- issues
  r.post('/issues', async (req, res) => {
    const body = createIssueBody.parse(req.body)
    const { result, outcome } = await metered(ctx, org(res), { action: 'save_issue.create' }, () =>
      createIssue(sql, org(res), body),
    )
    send(res, 201, { issue: issueView(result) }, outcome)
  })

  r.get('/issues', async (req, res) => {
    const q = listQuery.parse(req.query)
    const limit = q.limit ?? 50
    const rows = await listIssues(sql, org(res), { ...q, limit })
    const last = rows.at(-1)
    res.json({
      issues: rows.map((i) => issueView(i)),
      next: last && rows.length === limit ? last.created_at.toISOString() : null,
    })
  })

  r.get('/issues/:id', async (req, res) => {
    const { issue, ...rest } = await getIssueDetail(sql, org(res), id(req))
    res.json({ issue: { ...issueView(issue), ...rest } })
  })

  r.patch('/issues/:id', async (req, res) => {
    const issueId = id(req)
    const body = editIssueBody.parse(req.body)
    await getIssue(sql, org(res), issueId)
    // One save_issue edit, priced at the highest tier among the fields it touches. (Charged
    // even when the values are the ones already there: every edit writes a new version.)
    const action = editAction(
      ctx.config.rateCard,
      editFields.filter((f) => body[f] !== undefined),
    )
    const { result, outcome } = await metered(ctx, org(res), { action }, () =>
      editIssue(sql, org(res), issueId, body),
    )
    send(res, 200, { issue: issueView(result) }, outcome)
  })

  r.post('/issues/:id/comments', async (req, res) => {
    const issueId = id(req)
    const body = commentBody.parse(req.body)
    // Checked before metering, so a bad id never touches the ledger.
    await getIssue(sql, org(res), issueId)
    const { result, outcome } = await metered(ctx, org(res), { action: 'save_comment' }, () =>
      addComment(sql, org(res), issueId, body.body),
    )
    send(res, 201, { comment: result }, outcome)
  })

  r.get('/issues/:id/comments', async (req, res) => {
    const issue = await getIssue(sql, org(res), id(req))
    res.json({ comments: await listComments(sql, issue.id) })
  })

  r.post('/issues/:id/relations', async (req, res) => {
    const issueId = id(req)
    const body = relationBody.parse(req.body)
    await getIssue(sql, org(res), issueId)
    await getIssue(sql, org(res), body.to)
    if (body.to === issueId) throw new NotFoundError('an issue cannot relate to itself')
    const relation = { from: issueId, to: body.to, kind: body.kind }
    if (await hasRelation(sql, org(res), relation)) return void send(res, 201, { relation }, null)
    const { outcome } = await metered(ctx, org(res), { action: 'add_relation' }, () =>
      addRelation(sql, org(res), { from: issueId, to: body.to, kind: body.kind }),
    )
    send(res, 201, { relation: { from: issueId, to: body.to, kind: body.kind } }, outcome)
  })

  r.post('/issues/:id/labels', async (req, res) => {
    const issueId = id(req)
    const body = labelBody.parse(req.body)
    await getIssue(sql, org(res), issueId)
    if (await hasLabel(sql, org(res), issueId, body.label))
      return void send(res, 201, { label: body.label }, null)
    const { outcome } = await metered(ctx, org(res), { action: 'add_label' }, () =>
      addLabel(sql, org(res), issueId, body.label),
    )
    send(res, 201, { label: body.label }, outcome)
  })

  r.delete('/issues/:id/labels/:label', async (req, res) => {
    const issueId = id(req)
    const label = labelBody.parse({ label: req.params.label }).label
    await getIssue(sql, org(res), issueId)
    if (!(await hasLabel(sql, org(res), issueId, label)))
      return void send(res, 200, { removed: label }, null)
    const { outcome } = await metered(ctx, org(res), { action: 'remove_label' }, () =>
      removeLabel(sql, org(res), issueId, label),
    )
    send(res, 200, { removed: label }, outcome)
  })

  r.post('/issues/:id/attachments', async (req, res) => {
    const issueId = id(req)
    const body = attachmentBody.parse(req.body)
    if (body.url && new URL(body.url).protocol === 'http:' && ctx.config.env === 'production')
      throw new ValidationError('url: only https: links are accepted')
    await getIssue(sql, org(res), issueId)
    const { result, outcome } = await metered(ctx, org(res), { action: 'add_attachment' }, () =>
      addAttachment(sql, org(res), issueId, body),
    )
    send(res, 201, { attachment: result }, outcome)
  })

  // ---- leased dispatch
  r.post('/queue/next', async (req, res) => {
    const body = claimBody.parse(req.body ?? {})
    const { result, outcome } = await meteredUpTo(
      ctx,
      org(res),
      { action: 'next_issue', quantity: 1 },
      async () => {
        const rows = await claimReady(sql, org(res), {
          limit: 1,
          holder: holder(res),
          leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        })
        return { result: rows, count: rows.length }
      },
    )
    send(res, 200, { issue: result[0] ? issueView(result[0], true) : null }, outcome)
  })

  r.get('/queue/batch', async (req, res) => {
    const q = batchQuery.parse(req.query)
    const rows = await peekReady(sql, org(res), q.size ?? 10)
    res.json({ issues: rows.map((i) => issueView(i)) })
  })

  r.post('/queue/batch', async (req, res) => {
    const body = batchBody.parse(req.body)
    const { result, outcome } = await meteredUpTo(
      ctx,
      org(res),
      { action: 'next_batch', quantity: body.size },
      async () => {
        const rows = await claimReady(sql, org(res), {
          limit: body.size,
          holder: holder(res),
          leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        })
        return { result: rows, count: rows.length }
      },
    )
    send(res, 200, { issues: result.map((i) => issueView(i, true)) }, outcome)
  })

  r.get('/queue', async (_req, res) => {
    res.json({ queue: await queueStatus(sql, org(res)) })
  })

  r.post('/issues/:id/claim', async (req, res) => {
    const issueId = id(req)
    const body = claimBody.parse(req.body ?? {})
    await getIssue(sql, org(res), issueId)
    // Refused before metering, so a claim that cannot succeed never touches the ledger (one that
    // loses a race to another agent after this read is voided, as any failed work is).
    if (!(await isReady(sql, org(res), issueId))) throw new AlreadyClaimedError()
    const { result, outcome } = await metered(
      ctx,
      org(res),
      { action: 'claim_issue' },
      async () => {
        const rows = await claimReady(sql, org(res), {
          limit: 1,
          holder: holder(res),
          leaseSeconds: body.lease_seconds ?? defaultLeaseSeconds,
          issueId,
        })
        if (!rows[0]) throw new AlreadyClaimedError()
        return rows[0]
      },
    )
    send(res, 200, { issue: issueView(result, true) }, outcome)
  })

  r.get('/issues/:id/claim', async (req, res) => {
    const issue = await getIssue(sql, org(res), id(req))
    const live = issue.lease_expires_at !== null && issue.lease_expires_at > new Date()
    res.json({
      claimed: live,
      mine: live && issue.lease_holder === holder(res),
      claimed_at: live ? issue.lease_claimed_at : null,
      expires_at: live ? issue.lease_expires_at : null,
    })
  })

  // Lease wind-down: never refused for billing, as long as the lease predates the block.
  r.post('/issues/:id/heartbeat', async (req, res) => {
    const issueId = id(req)
    const body = leaseBody.parse(req.body)
    const lease = await leaseOf(sql, org(res), issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      org(res),
      { action: 'heartbeat', leaseClaimedAt: lease.lease_claimed_at },
      () =>
        windDown(sql, org(res), issueId, body.lease_token, {
          extendSeconds: body.lease_seconds ?? defaultLeaseSeconds,
        }),
    )
    send(res, 200, { issue: issueView(result) }, outcome)
  })

  r.post('/issues/:id/checkpoint', async (req, res) => {
    const issueId = id(req)
    const body = checkpointBody.parse(req.body)
    const lease = await leaseOf(sql, org(res), issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      org(res),
      { action: 'checkpoint', leaseClaimedAt: lease.lease_claimed_at },
      () => windDown(sql, org(res), issueId, body.lease_token, { checkpoint: body.checkpoint }),
    )
    send(res, 200, { issue: issueView(result) }, outcome)
  })

  r.post('/issues/:id/release', async (req, res) => {
    const issueId = id(req)
    const body = releaseBody.parse(req.body)
    const lease = await leaseOf(sql, org(res), issueId, body.lease_token)
    const { result, outcome } = await metered(
      ctx,
      org(res),
      { action: 'release_issue', leaseClaimedAt: lease.lease_claimed_at },
      () =>
        windDown(sql, org(res), issueId, body.lease_token, {
          release: { status: body.status ?? 'open' },
        }),
    )
    send(res, 200, { issue: issueView(result) }, outcome)
  })

  return r
}
