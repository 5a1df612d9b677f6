import type { Sql } from 'postgres'
import { BaseError, NotFoundError } from '../core/errors.js'
import { rfc3339 } from '../db/rfc3339.js'

// The work queue's domain: plain SQL over the org's own rows. Every query is scoped by org,
// so one org can never see or touch another's issues (a foreign id is simply "not found").

export type IssueRow = {
  id: string
  org_id: string
  title: string
  body: string
  status: string
  priority: number
  lease_holder: string | null
  lease_token: string | null
  lease_claimed_at: Date | null
  lease_expires_at: Date | null
  checkpoint: string | null
  version: number
  created_at: Date
  updated_at: Date
}

/** Timestamps may come back as text (the database keeps microseconds); make them Dates. */
const toDate = (v: unknown): Date | null => {
  if (v === null || v === undefined) return null
  if (v instanceof Date) return v
  let s = String(v).replace(' ', 'T')
  if (/[+-]\d\d$/.test(s)) s += ':00'
  return new Date(s)
}

/** A row as the rest of the code expects it (Dates, numbers). */
const normalize = (r: IssueRow): IssueRow => ({
  ...r,
  lease_claimed_at: toDate(r.lease_claimed_at),
  lease_expires_at: toDate(r.lease_expires_at),
  created_at: toDate(r.created_at)!,
  updated_at: toDate(r.updated_at)!,
  version: Number(r.version),
})

/** The caller does not hold this issue's lease (wrong token, expired, released). */
class LeaseNotHeldError extends BaseError {
  override name = 'LeaseNotHeldError'
  constructor(message = 'you do not hold the lease on this issue (expired or released)') {
    super(message, { code: 'LEASE_NOT_HELD' })
  }
}

/** Someone else holds an unexpired lease on the issue. */
export class AlreadyClaimedError extends BaseError {
  override name = 'AlreadyClaimedError'
  constructor() {
    super('the issue is leased by someone else or not claimable', {
      code: 'ALREADY_CLAIMED',
    })
  }
}

export const issueView = (i: IssueRow, withToken = false) => ({
  id: i.id,
  title: i.title,
  body: i.body,
  status: i.status,
  priority: i.priority,
  checkpoint: i.checkpoint,
  lease:
    i.lease_expires_at && i.lease_expires_at > new Date()
      ? {
          holder: i.lease_holder,
          claimed_at: i.lease_claimed_at,
          expires_at: i.lease_expires_at,
          ...(withToken ? { token: i.lease_token } : {}),
        }
      : null,
  created_at: i.created_at,
  updated_at: i.updated_at,
})

export async function getIssue(sql: Sql, orgId: string, id: string): Promise<IssueRow> {
  const [row] = await sql<IssueRow[]>`select * from issues where org_id = ${orgId} and id = ${id}`
  if (!row) throw new NotFoundError(`no issue ${id}`)
  return normalize(row)
}

export async function createIssue(
  sql: Sql,
  orgId: string,
  p: { title: string; body?: string; priority?: number; labels?: string[] },
) {
  return await sql.begin(async (tx) => {
    const [row] = await tx<IssueRow[]>`
      insert into issues (org_id, title, body, priority)
      values (${orgId}, ${p.title}, ${p.body ?? ''}, ${p.priority ?? 2}) returning *`
    for (const label of new Set(p.labels ?? []))
      await tx`insert into issue_labels (org_id, issue_id, label) values (${orgId}, ${row!.id}, ${label})`
    return normalize(row!)
  })
}

export async function editIssue(
  sql: Sql,
  orgId: string,
  id: string,
  p: { title?: string; body?: string; status?: string; priority?: number },
) {
  const [row] = await sql<IssueRow[]>`
    update issues set
      title = coalesce(${p.title ?? null}, title),
      body = coalesce(${p.body ?? null}, body),
      status = coalesce(${p.status ?? null}, status),
      priority = coalesce(${p.priority ?? null}::int, priority),
      version = version + 1, updated_at = now()
    where org_id = ${orgId} and id = ${id} returning *`
  if (!row) throw new NotFoundError(`no issue ${id}`)
  return normalize(row)
}

/** Claimable: open or in progress, no live lease, and not blocked by an open `blocks` relation. */
const readyCondition = (sql: Sql, orgId: string) => sql`
  i.org_id = ${orgId} and i.status in ('open', 'in_progress')
  and (i.lease_expires_at is null or i.lease_expires_at < now())
  and not exists (
    select 1 from issue_relations r join issues b on b.id = r.from_id
    where r.to_id = i.id and r.kind = 'blocks' and b.status not in ('done', 'canceled'))`

/** Whether one issue is ready to claim now (open, unleased, unblocked). */
export async function isReady(sql: Sql, orgId: string, id: string): Promise<boolean> {
  const rows =
    await sql`select 1 from issues i where ${readyCondition(sql, orgId)} and i.id = ${id}`
  return rows.length > 0
}

/** The next `limit` ready issues in priority order, without claiming (the free peek). */
export async function peekReady(sql: Sql, orgId: string, limit: number) {
  const rows = await sql<IssueRow[]>`
    select i.* from issues i where ${readyCondition(sql, orgId)}
    order by i.priority, i.created_at limit ${limit}`
  return rows.map(normalize)
}

/**
 * Claims up to `limit` ready issues atomically (`FOR UPDATE SKIP LOCKED`: concurrent agents
 * never get the same issue and never wait on each other), each under a fresh lease.
 */
export async function claimReady(
  sql: Sql,
  orgId: string,
  p: { limit: number; holder: string; leaseSeconds: number; issueId?: string },
) {
  const rows = await sql<IssueRow[]>`
    with picked as (
      select i.id from issues i
      where ${readyCondition(sql, orgId)} ${p.issueId ? sql`and i.id = ${p.issueId}` : sql``}
      order by i.priority, i.created_at
      for update skip locked limit ${p.limit})
    update issues u set status = 'in_progress', lease_holder = ${p.holder},
      lease_token = replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
      lease_claimed_at = now(), lease_expires_at = now() + make_interval(secs => ${p.leaseSeconds}),
      version = version + 1, updated_at = now()
    from picked where u.id = picked.id
    returning u.*`
  return rows.map(normalize)
}

/** The live lease a token proves, or `LeaseNotHeldError`. */
export async function leaseOf(sql: Sql, orgId: string, id: string, token: string) {
  const row = await getIssue(sql, orgId, id)
  if (row.lease_token !== token || !row.lease_expires_at || row.lease_expires_at < new Date())
    throw new LeaseNotHeldError()
  return row
}

/** Wind-down writes, conditional on still holding the lease. */
export async function windDown(
  sql: Sql,
  orgId: string,
  id: string,
  token: string,
  p: { extendSeconds?: number; checkpoint?: string; release?: { status: string } },
) {
  const [row] = await sql<IssueRow[]>`
    update issues set
      lease_expires_at = case
        when ${p.release ? 1 : 0}::int = 1 then null
        when ${p.extendSeconds ?? null}::int is not null then now() + make_interval(secs => ${p.extendSeconds ?? 0})
        else lease_expires_at end,
      lease_token = case when ${p.release ? 1 : 0}::int = 1 then null else lease_token end,
      lease_holder = case when ${p.release ? 1 : 0}::int = 1 then null else lease_holder end,
      lease_claimed_at = case when ${p.release ? 1 : 0}::int = 1 then null else lease_claimed_at end,
      status = coalesce(${p.release?.status ?? null}, status),
      checkpoint = coalesce(${p.checkpoint ?? null}, checkpoint),
      version = version + 1, updated_at = now()
    where org_id = ${orgId} and id = ${id} and lease_token = ${token} and lease_expires_at > now()
    returning *`
  if (!row) throw new LeaseNotHeldError()
  return normalize(row)
}

/** A page of the org's issues, newest first; `before` is the previous page's last `created_at`. */
export async function listIssues(
  sql: Sql,
  orgId: string,
  p: { status?: string; label?: string; before?: string; limit: number },
) {
  const rows = await sql<IssueRow[]>`
    select i.* from issues i where i.org_id = ${orgId}
      ${p.status ? sql`and i.status = ${p.status}` : sql``}
      ${p.label ? sql`and exists (select 1 from issue_labels l where l.issue_id = i.id and l.label = ${p.label})` : sql``}
      ${p.before ? sql`and i.created_at < ${p.before}` : sql``}
    order by i.created_at desc limit ${p.limit}`
  return rows.map(normalize)
}

export type Comment = { id: string; body: string; created_at: string }
export type Attachment = {
  id: string
  name: string
  content_type: string
  size_bytes: number
  url: string | null
  created_at: string
}

/** A row's `created_at` as RFC 3339 (raw queries read PostgreSQL's own text). */
const withTime = <T extends { created_at: string }>(r: T): T => ({
  ...r,
  created_at: rfc3339(r.created_at),
})

/** An issue's comments, oldest first. */
export const listComments = async (sql: Sql, issueId: string) =>
  (
    await sql<
      Comment[]
    >`select id, body, created_at from issue_comments where issue_id = ${issueId} order by created_at`
  ).map(withTime)

/** One issue with its comments, labels, relations and attachments (the free `get_issue`). */
export async function getIssueDetail(sql: Sql, orgId: string, id: string) {
  const issue = await getIssue(sql, orgId, id)
  const [comments, labels, relations, attachments] = await Promise.all([
    listComments(sql, issue.id),
    sql<
      { label: string }[]
    >`select label from issue_labels where issue_id = ${issue.id} order by label`,
    sql<
      { from_id: string; to_id: string; kind: string }[]
    >`select from_id, to_id, kind from issue_relations where from_id = ${issue.id} or to_id = ${issue.id}`,
    sql<
      Attachment[]
    >`select id, name, content_type, size_bytes::float8 as size_bytes, url, created_at from issue_attachments where issue_id = ${issue.id}`,
  ])
  return {
    issue,
    labels: labels.map((l) => l.label),
    comments,
    relations,
    attachments: attachments.map(withTime),
  }
}

export async function addComment(sql: Sql, orgId: string, issueId: string, body: string) {
  const [c] = await sql<Comment[]>`insert into issue_comments (org_id, issue_id, body)
    values (${orgId}, ${issueId}, ${body}) returning id, body, created_at`
  return withTime(c!)
}

/** `blocks`: the target is not ready while this issue is open. Adding it twice is a no-op. */
export async function addRelation(
  sql: Sql,
  orgId: string,
  p: { from: string; to: string; kind: string },
) {
  await sql`insert into issue_relations (org_id, from_id, to_id, kind)
    values (${orgId}, ${p.from}, ${p.to}, ${p.kind}) on conflict do nothing`
}

export async function addLabel(sql: Sql, orgId: string, issueId: string, label: string) {
  await sql`insert into issue_labels (org_id, issue_id, label)
    values (${orgId}, ${issueId}, ${label}) on conflict do nothing`
}

export async function removeLabel(sql: Sql, orgId: string, issueId: string, label: string) {
  await sql`delete from issue_labels where org_id = ${orgId} and issue_id = ${issueId} and label = ${label}`
}

/** Attachment metadata only: the bytes live wherever `url` points. */
export async function addAttachment(
  sql: Sql,
  orgId: string,
  issueId: string,
  p: { name: string; content_type: string; size_bytes: number; url?: string | undefined },
) {
  const [a] = await sql<
    Attachment[]
  >`insert into issue_attachments (org_id, issue_id, name, content_type, size_bytes, url)
    values (${orgId}, ${issueId}, ${p.name}, ${p.content_type}, ${p.size_bytes}, ${p.url ?? null})
    returning id, name, content_type, size_bytes::float8 as size_bytes, url, created_at`
  return withTime(a!)
}

/** Counts by status, live leases, and how many issues are ready to claim (the free `queue_status`). */
export async function queueStatus(sql: Sql, orgId: string) {
  const [s] = await sql<
    { open: number; in_progress: number; leased: number; done: number; ready: number }[]
  >`
    select count(*) filter (where status = 'open')::int as open,
           count(*) filter (where status = 'in_progress')::int as in_progress,
           count(*) filter (where lease_expires_at > now())::int as leased,
           count(*) filter (where status = 'done')::int as done,
           (select count(*)::int from issues i where ${readyCondition(sql, orgId)}) as ready
    from issues where org_id = ${orgId}`
  return s!
}

/** Whether the issue carries `label` (adding it again, or removing an absent one, is a no-op). */
export async function hasLabel(sql: Sql, orgId: string, issueId: string, label: string) {
  const rows = await sql`select 1 from issue_labels
    where org_id = ${orgId} and issue_id = ${issueId} and label = ${label}`
  return rows.length > 0
}

/** Whether the relation exists already (adding it again is a no-op). */
export async function hasRelation(
  sql: Sql,
  orgId: string,
  p: { from: string; to: string; kind: string },
) {
  const rows = await sql`select 1 from issue_relations
    where org_id = ${orgId} and from_id = ${p.from} and to_id = ${p.to} and kind = ${p.kind}`
  return rows.length > 0
}
