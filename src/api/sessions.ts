import { randomBytes } from 'node:crypto'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { newSessionToken, type Role } from './auth.js'

// Bearer sessions (stored as a SHA-256 hash) and the one-time nonces of Sign-In with Ethereum.

/** A fresh SIWE nonce, valid `ttlSeconds`; expired ones are swept on the way. */
export async function issueSiweNonce(db: Db, ttlSeconds = 600) {
  const nonce = randomBytes(16).toString('hex')
  await db.$client`delete from auth_nonces where expires_at < now()`
  await db.$client`insert into auth_nonces (nonce, expires_at)
    values (${nonce}, now() + make_interval(secs => ${ttlSeconds}))`
  return { nonce, expiresIn: ttlSeconds }
}

/** Spends a nonce: true once for a live nonce, false ever after (or if it expired). */
export async function consumeSiweNonce(db: Db, nonce: string): Promise<boolean> {
  const used =
    await db.$client`delete from auth_nonces where nonce = ${nonce} and expires_at > now() returning 1`
  return used.length === 1
}

/** The orgs a wallet may sign in to: those it owns, then those it administers. */
export const walletOrgs = (db: Db, address: string) =>
  db.$client<{ id: string; role: 'owner' | 'admin' }[]>`
    select id, 'owner' as role from orgs where owner_address = ${address.toLowerCase()}
    union all select org_id as id, 'admin' as role from org_admins where address = ${address.toLowerCase()}`

/** `walletOrgs` with each org's name, for the dashboard's org picker. */
export const walletOrgsNamed = (db: Db, address: string) =>
  db.$client<{ id: string; name: string; role: 'owner' | 'admin' }[]>`
    select o.id, o.name, w.role from (
      select id, 'owner' as role from orgs where owner_address = ${address.toLowerCase()}
      union all select org_id as id, 'admin' as role from org_admins where address = ${address.toLowerCase()}
    ) w join orgs o on o.id = w.id
    order by o.created_at, o.id`

export type CreateSessionParameters = {
  orgId: string
  role: Role
  /** The signed-in wallet (owner/admin sessions). */
  address?: string | undefined
  /** The API key that minted it (agent session keys): revoking the key ends the session. */
  parentKeyId?: string | null | undefined
  ttlSeconds: number
  /** The latest it may expire: the expiry of the session that mints it, if one does. */
  notAfter?: Date | null | undefined
}

/** A new session credential (`tg_sess_…`): the plain token is returned once, its hash kept. */
export async function createSession(db: Db, p: CreateSessionParameters) {
  const { token, hash } = newSessionToken()
  const [row] = await db.$client<{ expires_at: string }[]>`
    insert into session_keys (key_hash, org_id, role, address, parent_key_id, expires_at)
    values (${hash}, ${p.orgId}, ${p.role}, ${p.address?.toLowerCase() ?? null}, ${p.parentKeyId ?? null},
      least(now() + make_interval(secs => ${p.ttlSeconds}), ${p.notAfter ?? null}::timestamptz))
    returning expires_at`
  return { token, expiresAt: rfc3339(row!.expires_at) }
}
