import type { Address, Chain, Client, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { SignatureRejectedError } from './errors.js'
import { permitTypedData, permitValueForCap, subscriptionKey, termsTypedData } from './typedData.js'

export type PrepareAuthorizationParameters = {
  chainId: number
  token: Address
  collector: Address
  owner: Address
  subscriptionId: string
  /** The ledger's state of the subscription (`active`, `needs_reauth`, …). */
  state: string
  /** Collected and booked so far: they count against a new cap. */
  collected: bigint
  booked: bigint
  /** The lifetime cap the owner chose; none keeps a live subscription's cap. */
  cap: bigint | undefined
  /** A new per-window limit (0 for none); none keeps the one in force. */
  monthlyLimit: bigint | undefined
  windowSeconds: number
  deadline: bigint
}

export type PrepareAuthorizationReturnType = {
  permit: Awaited<ReturnType<typeof permitTypedData>> | undefined
  terms: ReturnType<typeof termsTypedData> | undefined
}

/**
 * What the owner signs for an authorization, as few signatures as the change needs: opening a
 * subscription is the permit and terms (the collector opens nothing from a permit alone); a new
 * cap on a live one is the permit; a new monthly limit on a live one whose allowance already
 * covers its cap is the terms alone (one signature, no permit); both changes are both.
 */
export async function prepareAuthorization(
  client: Client<Transport, Chain | undefined>,
  p: PrepareAuthorizationParameters,
): Promise<PrepareAuthorizationReturnType> {
  const onChain = await readContract(client, {
    address: p.collector,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(p.subscriptionId)],
  })
  const live = Number(onChain.status) === 1
  const cap = p.cap ?? (live ? onChain.cap : undefined)
  if (cap === undefined) throw new SignatureRejectedError('no_cap', 'set a cap to authorize')
  const value = permitValueForCap({ cap, collected: p.collected, booked: p.booked })
  const allowance = await readContract(client, {
    address: p.token,
    abi: usdcAbi,
    functionName: 'allowance',
    args: [p.owner, p.collector],
  })
  const termsOnly =
    live &&
    p.state === 'active' &&
    p.monthlyLimit !== undefined &&
    cap === onChain.cap &&
    allowance >= value
  if (live && p.cap === undefined && p.monthlyLimit === undefined)
    throw new SignatureRejectedError('no_change', 'set a new cap or monthly limit')
  const permit = termsOnly
    ? undefined
    : await permitTypedData(client, {
        token: p.token,
        owner: p.owner,
        spender: p.collector,
        value,
        deadline: p.deadline,
      })
  const terms =
    !live || p.monthlyLimit !== undefined
      ? termsTypedData({
          chainId: p.chainId,
          collector: p.collector,
          message: {
            subscription: subscriptionKey(p.subscriptionId),
            cap,
            limit: p.monthlyLimit ?? (live ? onChain.limit : 0n),
            period: p.windowSeconds,
            nonce: Number(onChain.termsNonce) + 1,
            deadline: p.deadline,
          },
        })
      : undefined
  return { permit, terms }
}
