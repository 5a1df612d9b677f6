import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'

// Admins: wallets the owner adds; they sign in with SIWE and get the org's controls.

/** Adds an admin wallet (lower-cased); adding one twice is a no-op. */
export async function addAdmin(db: Db, p: { orgId: string; address: string }) {
  const address = p.address.toLowerCase()
  await db.$client`insert into org_admins (org_id, address) values (${p.orgId}, ${address})
    on conflict do nothing`
  return { address }
}

/** The org's admin wallets, oldest first. */
export const listAdmins = async (db: Db, orgId: string) =>
  (
    await db.$client<{ address: string; created_at: string }[]>`
    select address, created_at from org_admins where org_id = ${orgId} order by created_at`
  ).map((a) => ({ address: a.address, created_at: rfc3339(a.created_at) }))
