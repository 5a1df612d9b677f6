import { createHash, randomBytes } from 'node:crypto'
import { BaseError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import type { Sql } from '../ledger/sql.js'

/** No credentials, or credentials that are unknown, revoked or malformed. */
export class UnauthorizedError extends BaseError {
  override name = 'UnauthorizedError'
  constructor(message = 'a valid API key is required: Authorization: Bearer tg_live_…') {
    super(message, { code: 'UNAUTHORIZED' })
  }
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex')

/** Mints an API key for an org; the plain key is returned once and only its hash is kept. */
export async function createApiKey(db: Db | Sql, p: { orgId: string; label?: string }) {
  const key = `tg_live_${randomBytes(24).toString('base64url')}`
  const sql = '$client' in db ? db.$client : db
  const [row] = await sql<{ id: string; created_at: string }[]>`
    insert into api_keys (org_id, key_hash, prefix, label)
    values (${p.orgId}, ${hashKey(key)}, ${key.slice(0, 12)}, ${p.label ?? null})
    returning id, created_at`
  return { id: row!.id, key, prefix: key.slice(0, 12), createdAt: rfc3339(row!.created_at) }
}

/** The org's API keys (never the keys themselves: prefix, label, dates). */
export const listApiKeys = async (db: Db, orgId: string) =>
  (
    await db.$client<
      {
        id: string
        prefix: string
        label: string | null
        role: string
        created_at: string
        revoked_at: string | null
      }[]
    >`
    select id, prefix, label, role, created_at, revoked_at from api_keys
    where org_id = ${orgId} order by created_at`
  ).map((k) => ({ ...k, created_at: rfc3339(k.created_at), revoked_at: rfc3339(k.revoked_at) }))

/**
 * Revokes an org's key if it is still active (`tollgate key revoke`); false when the org has no
 * such active key.
 * @example if (!(await revokeActiveApiKey(db, { orgId, id }))) console.log('no active key')
 */
export async function revokeActiveApiKey(db: Db, p: { orgId: string; id: string }) {
  const rows = await db.$client`
    update api_keys set revoked_at = clock_timestamp()
    where id = ${p.id} and org_id = ${p.orgId} and revoked_at is null returning id`
  return rows.length === 1
}

/** Revokes a key of the org (idempotent); null when the org has no such key. */
export async function revokeApiKey(db: Db, p: { orgId: string; id: string }) {
  const [row] = await db.$client<{ id: string; revoked_at: string }[]>`
    update api_keys set revoked_at = coalesce(revoked_at, now())
    where org_id = ${p.orgId} and id = ${p.id} returning id, revoked_at`
  return row ? { id: row.id, revoked_at: rfc3339(row.revoked_at) } : null
}
