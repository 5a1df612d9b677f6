import { type Address, type Hex, hashTypedData, parseEther, type TypedDataDefinition } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { verifyOwnerSignature } from '../../src/aa/verifyOwnerSignature.js'
import { signatureValidatorAbi, usdcAbi } from '../../src/chain/abis.js'
import { createReader, type SignerClient } from '../../src/chain/clients.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { permitTypedData } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'
import { deployAaStack } from '../support/deployAaStack.js'
import { deploySmartAccount } from '../support/deploySmartAccount.js'
import type { TypedDataSigner } from '../support/signOwnerCancel.js'
import { signTerms } from '../support/signTerms.js'
import { type SmartAccountKind, toOwnerSmartAccount } from '../support/toOwnerSmartAccount.js'

/** A funded key of its own, so sends never race the deployer's or the operator's nonces. */
export async function fundedSigner(chain: TestChain): Promise<SignerClient> {
  const key = generatePrivateKey()
  await chain.testClient.setBalance({
    address: privateKeyToAccount(key).address,
    value: parseEther('100'),
  })
  return await chain.signerFor(key)
}

/**
 * The AA rig on the test chain: the ERC-4337 stack at its canonical addresses (idempotent, so
 * every test may ask), a reader for the accounts, and a relayer that pays their gas.
 */
export async function aaRig(chain: TestChain) {
  await deployAaStack(chain.deployer)
  return { reader: await createReader(chain.rpcUrl), relayer: await fundedSigner(chain) }
}

export type SmartOwner = {
  kind: SmartAccountKind
  account: SmartAccount
  ownerKey: Hex
}

/** A fresh smart account of `kind` with a fresh owner key; deployed on request, with USDC if asked. */
export async function newSmartOwner(
  chain: TestChain,
  rig: Awaited<ReturnType<typeof aaRig>>,
  p: { kind: SmartAccountKind; deployed: boolean; usdc?: bigint },
): Promise<SmartOwner> {
  const ownerKey = generatePrivateKey()
  const account = await toOwnerSmartAccount(rig.reader, {
    kind: p.kind,
    owner: privateKeyToAccount(ownerKey),
  })
  if (p.deployed) await deploySmartAccount(rig.relayer, { account })
  if (p.usdc)
    await mintUsdc(chain.deployer, chain.deployment, { to: account.address, amount: p.usdc })
  return { kind: p.kind, account, ownerKey }
}

/** The USDC permit typed data for `owner` → `spender`, read from the token (domain, nonce). */
export async function usdcPermit(
  chain: TestChain,
  p: { owner: Address; spender: Address; value: bigint; deadline?: bigint },
) {
  return await permitTypedData(chain.deployer, {
    token: chain.deployment.usdc,
    owner: p.owner,
    spender: p.spender,
    value: p.value,
    deadline: p.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600),
  })
}

/**
 * The owner's signed authorization for the collector — the permit (cap) and optional terms —
 * signed by a smart account exactly as the manage page has a wallet sign it.
 */
export async function signOwnerAuthorization(
  chain: TestChain,
  signer: TypedDataSigner,
  p: {
    subscriptionId: string
    value: bigint
    /**
     * Terms as well (the lifetime cap defaults to the permit's value). Unless given, a subscription
     * the collector has not opened gets the opening terms (no limit, nonce 1) — it opens nothing
     * without them; `false` signs the permit alone.
     */
    terms?: { cap?: bigint; limit: bigint; nonce: number } | false
    /** Sign for this owner address (a stranger signing for someone else's wallet). */
    owner?: Address
    /** Permit (and terms) deadline; an hour from now unless given. */
    deadline?: bigint
  },
): Promise<SignedAuthorization> {
  const owner = p.owner ?? signer.address
  const permit = await usdcPermit(chain, {
    owner,
    spender: chain.deployment.collector!,
    value: p.value,
    deadline: p.deadline,
  })
  const auth: SignedAuthorization = {
    owner,
    permit: {
      value: p.value,
      deadline: permit.message.deadline,
      nonce: permit.message.nonce,
      signature: await signer.signTypedData(permit as TypedDataDefinition),
    },
  }
  const terms = await signTerms(chain, signer, {
    subscriptionId: p.subscriptionId,
    value: p.value,
    deadline: permit.message.deadline,
    terms: p.terms,
  })
  if (terms) auth.terms = terms
  return auth
}

/** The USDC permit typed data a signed authorization of `wallet`'s signs, read from the token. */
export async function permitOf(
  chain: TestChain,
  p: { wallet: Address; auth: SignedAuthorization },
) {
  return await permitTypedData(chain.deployer, {
    token: chain.deployment.usdc,
    owner: p.wallet,
    spender: chain.deployment.collector!,
    value: p.auth.permit.value,
    deadline: p.auth.permit.deadline,
    nonce: p.auth.permit.nonce,
  })
}

/**
 * A front-runner submitting an owner's signed permit before the operator does: deploys the
 * counterfactual wallet through the collector's 6492 validator (anyone may call it), then gives
 * USDC the inner signature. The permit's nonce is used, the allowance is its value.
 */
export async function frontRunPermit(
  chain: TestChain,
  rig: Awaited<ReturnType<typeof aaRig>>,
  p: { wallet: Address; auth: SignedAuthorization },
) {
  const { wallet, auth } = p
  const permit = await permitOf(chain, { wallet, auth })
  const { tokenSignature } = await verifyOwnerSignature(rig.reader, {
    owner: wallet,
    typedData: permit as TypedDataDefinition,
    signature: auth.permit.signature,
  })
  await rig.relayer.waitForTransactionReceipt({
    hash: await rig.relayer.writeContract({
      address: chain.deployment.validator,
      abi: signatureValidatorAbi,
      functionName: 'isValidSig',
      args: [wallet, hashTypedData(permit as TypedDataDefinition), auth.permit.signature],
      // An estimate can starve the factory call (it answers false instead of reverting).
      gas: 1_000_000n,
    }),
  })
  await rig.relayer.waitForTransactionReceipt({
    hash: await rig.relayer.writeContract({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      functionName: 'permit',
      args: [
        wallet,
        chain.deployment.collector!,
        auth.permit.value,
        auth.permit.deadline,
        tokenSignature,
      ],
    }),
  })
}
