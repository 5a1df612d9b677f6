import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import type { Deployment } from '../chain/deployment.js'
import type { Db } from '../db/client.js'
import { getBillingSummary } from '../ledger/index.js'
import type { ChainWriter } from './authorization.js'
import { SignatureRejectedError } from './errors.js'
import { submitAuthorization } from './submitAuthorization.js'
import { permitTypedData, subscriptionKey } from './typedData.js'

type Reader = Client<Transport, Chain | undefined>

/** What the collector can pull for a live subscription now, read at one block. */
async function readLive(
  client: Reader,
  d: Pick<Deployment, 'usdc' | 'collector'>,
  p: { subscriptionId: string; owner: Address },
) {
  const [sub, allowance] = await Promise.all([
    readContract(client, {
      address: d.collector!,
      abi: collectorAbi,
      functionName: 'getSubscription',
      args: [subscriptionKey(p.subscriptionId)],
    }),
    readContract(client, {
      address: d.usdc,
      abi: usdcAbi,
      functionName: 'allowance',
      args: [p.owner, d.collector!],
    }),
  ])
  if (Number(sub.status) !== 1)
    throw new SignatureRejectedError(
      'not_live',
      'no live subscription on-chain to keep: a held or never-sent permit is voided by canceling',
    )
  // The cap the revocation keeps: the owner's cap, or what the allowance lets the collector
  // reach when that is lower. `totalCollected + allowance` does not move when a pull lands
  // (one goes up by what the other goes down), so a pull racing the revocation leaves the
  // owner exactly where they were, never with more to lose.
  const reach = BigInt(sub.totalCollected) + allowance
  return { allowance, maxCap: reach < sub.cap ? reach : BigInt(sub.cap) }
}

async function ownerOf(db: Db, p: { orgId: string }) {
  const s = await getBillingSummary(db, p.orgId)
  if (!s.owner || s.state === 'canceled')
    throw new SignatureRejectedError('not_live', 'the org has no live subscription to keep')
  return { subscriptionId: s.subscriptionId, owner: s.owner as Address }
}

/**
 * What the owner signs to revoke every permit they signed and nobody submitted, without
 * canceling (contracts/README.md, Revoking outstanding permits): a permit for the collector at
 * their current token nonce, for the allowance the collector holds now. Submitted, it uses that
 * nonce (so every older permit carrying it is void) and leaves the allowance and the cap as
 * they are. Returns the EIP-712 typed data for the wallet.
 */
export async function prepareRevocation(
  w: { db: Db; client: Reader; deployment: Pick<Deployment, 'usdc' | 'collector'> },
  p: { orgId: string; deadline: bigint },
) {
  const { subscriptionId, owner } = await ownerOf(w.db, p)
  const { allowance } = await readLive(w.client, w.deployment, { subscriptionId, owner })
  return await permitTypedData(w.client, {
    token: w.deployment.usdc,
    owner,
    spender: w.deployment.collector!,
    value: allowance,
    deadline: p.deadline,
  })
}

export type RevokePermitsReturnType = {
  txHash: Hex
  /** The owner's token nonce now: every permit signed below it is void. */
  nonce: bigint
  /** What the collector can still pull (the ledger's allowance after the revocation). */
  allowance: bigint
}

/**
 * Revokes the owner's outstanding permits without canceling: verifies the signed revocation
 * permit (from `prepareRevocation`) as the chain will, has the operator submit it to the live
 * subscription with the cap bounded to what the owner can lose now (never more: a revocation
 * never raises the cap), and records the allowance. A stranger's signature, a used nonce or a
 * subscription not live on-chain is refused with `SignatureRejectedError`, nothing sent.
 */
export async function revokePermits(
  w: ChainWriter,
  p: { orgId: string; permit: { value: bigint; deadline: bigint; nonce: bigint; signature: Hex } },
): Promise<RevokePermitsReturnType> {
  const { subscriptionId, owner } = await ownerOf(w.db, p)
  const { maxCap } = await readLive(w.operator, w.deployment, { subscriptionId, owner })
  const sent = await submitAuthorization(w, {
    orgId: p.orgId,
    subscriptionId,
    auth: { owner, permit: p.permit },
    cap: maxCap,
  })
  if (sent.held) throw new SignatureRejectedError('not_live', 'the subscription is held off-chain')
  return { txHash: sent.txHash, nonce: p.permit.nonce + 1n, allowance: sent.allowance }
}
