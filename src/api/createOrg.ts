import { getAddress, isAddress } from 'viem'
import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { openBillingAccountIn } from '../ledger/index.js'
import type { Sql } from '../ledger/sql.js'
import { createApiKey } from './keys.js'

export type CreateOrgParameters = {
  name: string
  ownerAddress: string
  /** The signup credit a new org gets… */
  signupCreditMicros: bigint
  /** …for at most this many orgs per owner wallet, so the voucher cannot be farmed. */
  creditsPerOwner: number
}

export type CreateOrgReturnType = {
  orgId: string
  subscriptionId: string
  signupCredit: bigint
  ownerAddress: string
  name: string
  /** The first API key, in full: shown once, only its hash is kept. */
  apiKey: string
}

/**
 * Signs an org up: the org, its billing account (pending, with the signup credit unless its
 * owner already used up theirs) and a first API key, shown once. (Sign-ups per client address
 * are limited in front of this, by the route.)
 *
 * @example
 * const org = await createOrg(db, { name: 'Acme', ownerAddress: '0x…', signupCreditMicros: 2_000_000n, creditsPerOwner: 1 })
 */
export async function createOrg(db: Db, p: CreateOrgParameters): Promise<CreateOrgReturnType> {
  return db.$client.begin((tx) => createOrgIn(tx, p))
}

/** `createOrg` inside the caller's transaction (an x402 sign-up creates the org as it credits). */
export async function createOrgIn(tx: Sql, p: CreateOrgParameters): Promise<CreateOrgReturnType> {
  if (!isAddress(p.ownerAddress, { strict: false }))
    throw new ValidationError('owner_address is not an address')
  // Mixed case is an EIP-55 checksum: one that does not match is a typo, and an org owned by a
  // wallet nobody holds could never be authorized (nor could one owned by the zero address).
  const hex = p.ownerAddress.slice(2)
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && !isAddress(p.ownerAddress))
    throw new ValidationError(
      'owner_address has a checksum that does not match: check it for a typo',
    )
  if (/^0x0{40}$/.test(p.ownerAddress))
    throw new ValidationError('owner_address is the zero address, which no wallet can sign for')
  const owner = getAddress(p.ownerAddress).toLowerCase()
  // Serialize sign-ups per owner so two at once cannot both take the last credit.
  await tx`select pg_advisory_xact_lock(hashtext(${owner}))`
  const [{ n }] =
    (await tx`select count(*)::int as n from orgs where owner_address = ${owner}`) as unknown as [
      { n: number },
    ]
  const credit = n < p.creditsPerOwner ? p.signupCreditMicros : 0n
  const [org] = await tx<{ id: string }[]>`
    insert into orgs (name, owner_address) values (${p.name}, ${owner}) returning id`
  const { subscriptionId } = await openBillingAccountIn(tx, {
    orgId: org!.id,
    signupCreditMicros: credit,
  })
  const key = await createApiKey(tx, { orgId: org!.id, label: 'first key' })
  return {
    orgId: org!.id,
    subscriptionId,
    signupCredit: credit,
    ownerAddress: owner,
    name: p.name,
    apiKey: key.key,
  }
}
