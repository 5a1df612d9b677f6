import { getAddress, type Hex } from 'viem'
import type { Db } from '../db/client.js'
import type { SignedAuthorization } from './authorization.js'
import type { HeldTerms } from './schema.js'

/**
 * How long a permit (and terms) signed by an owner whose wallet has no code stays usable: it is
 * held off-chain until the first charge is due, which may take weeks, so the manage page asks for
 * this deadline instead of its usual minutes.
 */
export const HELD_PERMIT_LIFETIME_SECONDS = 90 * 86_400

/** A held authorization as stored, with the owner's signatures ready to send. */
export type HeldAuthorization = {
  subscriptionId: string
  orgId: string
  auth: SignedAuthorization
  heldAt: Date
  submittedAt: Date | null
  txHash: Hex | null
  droppedAt: Date | null
}

type Row = {
  subscription_id: string
  org_id: string
  owner: string
  permit_value: string
  permit_deadline: string
  permit_nonce: string
  permit_signature: string
  terms: HeldTerms | null
  /** Timestamps come back as text (src/db/client.ts). */
  held_at: string
  submitted_at: string | null
  tx_hash: string | null
  dropped_at: string | null
}

const fromRow = (r: Row): HeldAuthorization => ({
  subscriptionId: r.subscription_id,
  orgId: r.org_id,
  auth: {
    owner: getAddress(r.owner),
    permit: {
      value: BigInt(r.permit_value),
      deadline: BigInt(r.permit_deadline),
      nonce: BigInt(r.permit_nonce),
      signature: r.permit_signature as Hex,
    },
    terms: r.terms
      ? {
          cap: BigInt(r.terms.cap ?? '0'),
          limit: BigInt(r.terms.limit),
          period: r.terms.period,
          nonce: r.terms.nonce,
          deadline: BigInt(r.terms.deadline),
          signature: r.terms.signature,
        }
      : undefined,
  },
  heldAt: new Date(r.held_at),
  submittedAt: r.submitted_at === null ? null : new Date(r.submitted_at),
  txHash: r.tx_hash as Hex | null,
  droppedAt: r.dropped_at === null ? null : new Date(r.dropped_at),
})

/**
 * Holds a counterfactual owner's verified authorization instead of sending it. A re-sign before
 * submission replaces the held one (same subscription, fresh row state).
 */
export async function holdAuthorization(
  db: Db,
  p: { orgId: string; subscriptionId: string; auth: SignedAuthorization },
) {
  const { auth } = p
  const terms: HeldTerms | null = auth.terms
    ? {
        cap: auth.terms.cap.toString(),
        limit: auth.terms.limit.toString(),
        period: auth.terms.period,
        nonce: auth.terms.nonce,
        deadline: auth.terms.deadline.toString(),
        signature: auth.terms.signature,
      }
    : null
  await db.$client`
    insert into held_authorizations (subscription_id, org_id, owner, permit_value, permit_deadline,
      permit_nonce, permit_signature, terms, held_at)
    values (${p.subscriptionId}, ${p.orgId}, ${getAddress(auth.owner)}, ${auth.permit.value.toString()},
      ${auth.permit.deadline.toString()}, ${auth.permit.nonce.toString()}, ${auth.permit.signature},
      ${terms ? JSON.stringify(terms) : null}::jsonb, clock_timestamp())
    on conflict (subscription_id) do update set
      org_id = excluded.org_id, owner = excluded.owner, permit_value = excluded.permit_value,
      permit_deadline = excluded.permit_deadline, permit_nonce = excluded.permit_nonce,
      permit_signature = excluded.permit_signature, terms = excluded.terms, held_at = excluded.held_at,
      submitted_at = null, tx_hash = null, dropped_at = null, dropped_reason = null`
}

/** The subscription's held authorization not yet submitted (nor dropped, unless asked), if any. */
export async function getUnsubmittedHeld(
  db: Db,
  p: { subscriptionId: string; includeDropped?: boolean },
): Promise<HeldAuthorization | undefined> {
  const [row] = await db.$client<Row[]>`
    select * from held_authorizations
    where subscription_id = ${p.subscriptionId} and submitted_at is null
      and (${p.includeDropped ?? false} or dropped_at is null)`
  return row ? fromRow(row) : undefined
}

/** Records that the held authorization went on-chain in `txHash`. */
export async function markHeldSubmitted(db: Db, p: { subscriptionId: string; txHash: Hex }) {
  await db.$client`
    update held_authorizations set submitted_at = clock_timestamp(), tx_hash = ${p.txHash}
    where subscription_id = ${p.subscriptionId} and submitted_at is null`
}

/** Drops an unsubmitted held authorization for good (canceled, superseded, unusable) with its reason. */
export async function dropHeldAuthorization(db: Db, p: { subscriptionId: string; reason: string }) {
  const rows = await db.$client`
    update held_authorizations set dropped_at = clock_timestamp(), dropped_reason = ${p.reason}
    where subscription_id = ${p.subscriptionId} and submitted_at is null and dropped_at is null
    returning subscription_id`
  return rows.length > 0
}

/** Whether `owner` is a wallet not deployed yet (no code): what a held authorization is for. */
export const isCounterfactual = (code: Hex | undefined) => code === undefined || code === '0x'
