import {
  type Address,
  type Chain,
  type Client,
  type Hex,
  hexToBigInt,
  isAddressEqual,
  isErc6492Signature,
  parseErc6492Signature,
  recoverTypedDataAddress,
  size,
  slice,
  type Transport,
  type TypedData,
  type TypedDataDefinition,
} from 'viem'
import { getCode, verifyTypedData } from 'viem/actions'

/**
 * What signs for an owner address, as USDC decides it:
 * - `eoa`: no code, plain ECDSA (65 bytes, low s, v 27/28 — USDC's rules, stricter than ecrecover);
 * - `contract`: a deployed smart account, checked with ERC-1271;
 * - `eip7702`: an EOA delegated with EIP-7702 — it has code (the designator), so ERC-1271 too;
 * - `counterfactual`: no code yet, the signature ERC-6492-wrapped with the factory call that deploys it.
 */
export type OwnerKind = 'eoa' | 'contract' | 'eip7702' | 'counterfactual'

export type VerifyOwnerSignatureParameters = {
  owner: Address
  typedData: TypedDataDefinition<TypedData | Record<string, unknown>, string>
  signature: Hex
}

export type VerifyOwnerSignatureReturnType = {
  valid: boolean
  ownerKind: OwnerKind
  /**
   * The signature USDC's `permit(…, bytes)` must be given: the inner one of an ERC-6492 wrapper
   * (USDC never unwraps 6492), else the signature itself. Valid only once the owner has code.
   */
  tokenSignature: Hex
  /** For a counterfactual owner: the factory call that deploys it (made by the unprivileged validator). */
  deployment: { factory: Address; factoryData: Hex } | null
}

/** secp256k1n / 2: the largest s USDC's ECRecover accepts. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** USDC's ECDSA rules for a code-less signer: 65 bytes, low s, v in {27, 28}. */
function meetsUsdcEcdsaRules(signature: Hex): boolean {
  if (size(signature) !== 65) return false
  const s = hexToBigInt(slice(signature, 32, 64))
  const v = Number(hexToBigInt(slice(signature, 64, 65)))
  return s <= HALF_ORDER && (v === 27 || v === 28)
}

/**
 * Verifies an owner's EIP-712 signature (permit, terms, cancel) off-chain exactly as the chain
 * will: USDC's ECDSA rules for a code-less owner; for an owner with code (a smart account, or an
 * EIP-7702 account) and for a counterfactual one (ERC-6492: the deployment is simulated in an
 * `eth_call`, nothing is sent), viem's universal verification. Also says what the owner is, so
 * the app can hold a counterfactual owner's deployment back until a charge is due
 * (`ownerDeploymentDue`): USDC's permit accepts its signature only once the wallet exists.
 *
 * @example
 * const { valid, ownerKind } = await verifyOwnerSignature(client, { owner, typedData: permit, signature })
 */
export async function verifyOwnerSignature(
  client: Client<Transport, Chain | undefined>,
  parameters: VerifyOwnerSignatureParameters,
): Promise<VerifyOwnerSignatureReturnType> {
  const { owner, signature } = parameters
  const typedData = parameters.typedData as TypedDataDefinition
  const code = await getCode(client, { address: owner })
  const hasCode = code !== undefined && code !== '0x'
  const wrapped = isErc6492Signature(signature)
  const parsed = wrapped ? parseErc6492Signature(signature) : undefined
  const tokenSignature = parsed ? parsed.signature : signature

  if (!hasCode && !wrapped) {
    // USDC recovers an EOA's signature itself; viem's ecrecover would also accept high-s or
    // 64-byte signatures that the token refuses, so apply the token's rules first.
    const valid =
      meetsUsdcEcdsaRules(signature) &&
      isAddressEqual(await recoverTypedDataAddress({ ...typedData, signature }), owner)
    return { valid, ownerKind: 'eoa', tokenSignature, deployment: null }
  }
  const ownerKind: OwnerKind = !hasCode
    ? 'counterfactual'
    : code.toLowerCase().startsWith('0xef0100')
      ? 'eip7702'
      : 'contract'
  const valid = await verifyTypedData(client, { address: owner, ...typedData, signature }).catch(
    () => false,
  )
  const deployment =
    ownerKind === 'counterfactual' && parsed?.address && parsed.data
      ? { factory: parsed.address, factoryData: parsed.data }
      : null
  return { valid, ownerKind, tokenSignature, deployment }
}
