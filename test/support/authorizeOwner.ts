import type { Address, Hex } from 'viem'
import { getBillingSummary } from '../../src/ledger/index.js'
import type { SettlementContext } from '../../src/settlement/context.js'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { permitValueForCap } from '../../src/subscriptions/typedData.js'

export type AuthorizeOwnerParameters = {
  orgId: string
  subscriptionId: string
  owner: Address
  permit: { value: bigint; deadline: bigint; nonce: bigint; signature: Hex }
  /** Required to open a subscription: the lifetime cap, monthly limit and window length. */
  terms?: SignedAuthorization['terms']
}

/**
 * Authorizes (or re-authorizes, same subscription id) an org's subscription from the owner's
 * signed permit and terms (required to open it; optional for a top-up). Everything is verified off-chain first — signer (ECDSA,
 * ERC-1271, ERC-6492), chain id, token, spender, deadline, token nonce current, terms nonce
 * newest — then the operator submits `authorize`/`authorizeWithTerms`, waits for the receipt
 * and the ledger moves the subscription to `active` with allowance = permit value. A
 * counterfactual owner's (ERC-6492) authorization is held instead (`held: true`, no transaction):
 * settlement sends it, deploying the wallet, when the first charge is due and affordable.
 * A rejected signature throws `SignatureRejectedError`; a first permit whose nonce was consumed
 * elsewhere (or that expired unused) leaves the subscription `needs_reauth` with that reason.
 */
export async function authorizeOwner(
  ctx: Pick<SettlementContext, 'db' | 'operator' | 'deployment'>,
  p: AuthorizeOwnerParameters,
) {
  return await submitAuthorization(ctx, {
    orgId: p.orgId,
    subscriptionId: p.subscriptionId,
    auth: { owner: p.owner, permit: p.permit, terms: p.terms },
  })
}

/**
 * The permit value the manage page asks the owner to sign for a new lifetime cap:
 * new cap − (collected + booked), never below zero. A permit sets the allowance (it does not
 * add to it), so a pull racing the new permit can only leave the owner under their cap.
 */
export async function permitValueForNewCap(
  db: SettlementContext['db'],
  p: { orgId: string; cap: bigint },
): Promise<bigint> {
  const s = await getBillingSummary(db, p.orgId)
  return permitValueForCap({ cap: p.cap, collected: s.drawn, booked: s.booked })
}
