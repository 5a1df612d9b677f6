import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Secret } from '../config/secret.js'
import { NotFoundError } from '../core/errors.js'
import type { Db } from '../db/client.js'

// Unsubscribe links: `<payload>.<mac>`, the payload naming the org, the address and the kind.
// They need no sign-in and act only on that address and kind.
const unsubscribeKey = (key: Secret) =>
  createHash('sha256').update('tollgate:unsubscribe:').update(key.reveal()).digest()
const macOf = (key: Secret, payload: string) =>
  createHmac('sha256', unsubscribeKey(key)).update(payload).digest('base64url')

/** The signed token of an unsubscribe link: that org's address stops receiving that kind. */
export function unsubscribeToken(key: Secret, orgId: string, address: string, kind: string) {
  const payload = Buffer.from(JSON.stringify([orgId, address, kind])).toString('base64url')
  return `${payload}.${macOf(key, payload)}`
}

/** What an unsubscribe token names, if it is one we signed. */
export function readUnsubscribeToken(
  key: Secret,
  token: string,
): { orgId: string; address: string; kind: string } | null {
  const [payload, mac] = token.split('.')
  if (!payload || !mac || token.split('.').length !== 2) return null
  const want = Buffer.from(macOf(key, payload))
  const got = Buffer.from(mac)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null
  const [orgId, address, kind] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  return { orgId, address, kind }
}

/**
 * Removes the token's kind from the mails of the token's address. A link for another address
 * (the org changed it since) or another kind changes nothing else. Answers whether it did.
 */
export async function unsubscribe(db: Db, key: Secret, token: string) {
  const t = readUnsubscribeToken(key, token)
  if (!t) throw new NotFoundError('this unsubscribe link is not one of ours')
  const [row] = await db.$client<{ org_id: string }[]>`
    update email_settings set kinds = array_remove(kinds, ${t.kind}), updated_at = clock_timestamp()
    where org_id = ${t.orgId} and address = ${t.address} and ${t.kind} = any(kinds)
    returning org_id`
  return { address: t.address, kind: t.kind, changed: row !== undefined }
}
