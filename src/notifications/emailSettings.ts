import { createHash, randomBytes } from 'node:crypto'
import type { Secret } from '../config/secret.js'
import { NotFoundError, ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { eventTypes } from './events.js'
import { seal } from './seal.js'

/** Event kinds an owner may receive by mail (operator and webhook notices are not mailed). */
export const mailableKinds = eventTypes.filter((t) => t !== 'operator.eth_low')
const VERIFY_TTL_MS = 24 * 3600_000

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex')
export const addressRe =
  /^[^\s@<>()",;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
/** An address as stored: trimmed, its domain lower-cased (the local part is the mailbox's). */
function normalizeAddress(address: string): string {
  const a = address.trim()
  if (a.length > 254 || !addressRe.test(a))
    throw new ValidationError('not an email address', { field: 'address' })
  const at = a.lastIndexOf('@')
  return `${a.slice(0, at)}@${a.slice(at + 1).toLowerCase()}`
}

export type EmailSettingsView = {
  address: string | null
  verified: boolean
  kinds: string[]
  updated_at: string | null
}

/** The org's mail settings (no address yet: nothing set). */
export async function getEmailSettings(db: Db, orgId: string): Promise<EmailSettingsView> {
  const [s] = await db.$client<
    { address: string; verified_at: Date | null; kinds: string[]; updated_at: Date }[]
  >`select address, verified_at, kinds, updated_at from email_settings where org_id = ${orgId}`
  if (!s) return { address: null, verified: false, kinds: [], updated_at: null }
  return {
    address: s.address,
    verified: s.verified_at !== null,
    kinds: s.kinds,
    updated_at: rfc3339(s.updated_at),
  }
}

/**
 * Sets the owner's address and the kinds mailed. A new address is unverified until its one-time
 * link is opened: the verification mail is queued in the same transaction (the worker sends it,
 * retrying while the server refuses), and nothing else is mailed to it before. The same address
 * keeps its verification; only the kinds change.
 */
export async function setEmailSettings(
  db: Db,
  key: Secret,
  p: {
    orgId: string
    address: string
    kinds?: readonly string[] | undefined
    /** Trust the address without a link: only `tollgate dev`'s demo owner (a local catcher). */
    verified?: boolean | undefined
  },
): Promise<EmailSettingsView> {
  const address = normalizeAddress(p.address)
  const token = randomBytes(32).toString('base64url')
  const kinds = p.kinds ?? mailableKinds
  await db.$client.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`email:${p.orgId}`}, 0))`
    const [current] = await tx<{ address: string; verified_at: Date | null }[]>`
      select address, verified_at from email_settings where org_id = ${p.orgId} for update`
    if (current && current.address === address) {
      await tx`update email_settings set kinds = ${kinds as string[]}, updated_at = clock_timestamp()
        where org_id = ${p.orgId}`
      if (current.verified_at !== null) return
    }
    await tx`
      insert into email_settings (org_id, address, kinds, verify_token_hash, verify_expires_at,
        verify_mail_sealed, verify_mail_attempts, verify_mail_next_at)
      values (${p.orgId}, ${address}, ${kinds as string[]}, ${sha256(token)},
        clock_timestamp() + make_interval(secs => ${VERIFY_TTL_MS / 1000}),
        ${seal(key, token)}, 0, clock_timestamp())
      on conflict (org_id) do update set address = excluded.address, kinds = excluded.kinds,
        verified_at = null, verify_token_hash = excluded.verify_token_hash,
        verify_expires_at = excluded.verify_expires_at,
        verify_mail_sealed = excluded.verify_mail_sealed, verify_mail_attempts = 0,
        verify_mail_next_at = excluded.verify_mail_next_at, updated_at = clock_timestamp()`
    if (p.verified)
      await tx`update email_settings set verified_at = clock_timestamp(), verify_token_hash = null,
        verify_expires_at = null, verify_mail_sealed = null where org_id = ${p.orgId}`
  })
  return await getEmailSettings(db, p.orgId)
}

/** Stops all mail to the org: the address and its kinds are forgotten. */
export async function removeEmailSettings(db: Db, orgId: string): Promise<void> {
  await db.$client.begin(async (tx) => {
    await tx`delete from email_settings where org_id = ${orgId}`
    await tx`delete from email_pending where org_id = ${orgId} and sent_at is null`
  })
}

/** Opens a verification link: the address it was sent to is verified (once; it expires). */
export async function verifyEmail(db: Db, token: string): Promise<{ address: string }> {
  const [row] = await db.$client<{ address: string }[]>`
    update email_settings set verified_at = clock_timestamp(), verify_token_hash = null,
      verify_expires_at = null, verify_mail_sealed = null, updated_at = clock_timestamp()
    where verify_token_hash = ${sha256(token)} and verify_expires_at > clock_timestamp()
    returning address`
  if (!row) throw new NotFoundError('this verification link is used, expired or unknown')
  return row
}
