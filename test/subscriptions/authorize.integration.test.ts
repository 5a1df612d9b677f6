import { hexToBigInt, numberToHex, parseSignature, serializeSignature } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getBillingSummary } from '../../src/ledger/index.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { describe, expect, test } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { authorizeOnCollector } from '../support/authorizeOnCollector.js'
import { signAuthorization } from './helpers.js'

/** The secp256k1 group order n: s and n − s both recover the same signer. */
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('authorization from the owner’s signatures', () => {
  test('permit + terms → active with the cap and limit; re-authorize keeps the id; bad signatures change nothing', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    const auth = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 5_000_000n,
      terms: { limit: 1_000_000n, nonce: 1 },
    })
    const { txHash } = await submitAuthorization(w, { orgId, subscriptionId, auth })
    expect(txHash).toMatch(/^0x/)
    let s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({
      subscriptionId,
      state: 'active',
      cap: 5_000_000n,
      remaining: 5_000_000n,
      monthlyLimit: 1_000_000n,
    })
    expect(s.owner?.toLowerCase()).toBe(owner.address.toLowerCase())

    // Replayed: the token nonce is spent.
    const replay = await submitAuthorization(w, { orgId, subscriptionId, auth }).catch((e) => e)
    expect(replay.details).toMatchObject({ reason: 'nonce_used' })

    // A stranger's signature, an expired one, and one for another chain are refused before sending.
    const stranger = privateKeyToAccount(generatePrivateKey())
    const forged = await signAuthorization(chain, stranger, {
      subscriptionId,
      value: 9_000_000n,
      nonce: 1n,
    })
    const wrong = await submitAuthorization(w, {
      orgId,
      subscriptionId,
      auth: { ...forged, owner: owner.address },
    }).catch((e) => e)
    expect(wrong.details).toMatchObject({ reason: 'bad_signature' })
    const expired = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 9_000_000n,
      deadline: 1n,
    })
    expect(
      (await submitAuthorization(w, { orgId, subscriptionId, auth: expired }).catch((e) => e))
        .details,
    ).toMatchObject({ reason: 'expired' })
    const otherChain = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 9_000_000n,
      chainId: 8453,
    })
    expect(
      (await submitAuthorization(w, { orgId, subscriptionId, auth: otherChain }).catch((e) => e))
        .details,
    ).toMatchObject({ reason: 'bad_signature' })
    // Terms older than those in force are refused.
    const stale = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 9_000_000n,
      terms: { limit: 5n, nonce: 1 },
    })
    expect(
      (await submitAuthorization(w, { orgId, subscriptionId, auth: stale }).catch((e) => e))
        .details,
    ).toMatchObject({ reason: 'stale_terms' })
    s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({ cap: 5_000_000n, monthlyLimit: 1_000_000n })

    // Top-up: one new permit on the same subscription.
    const topUp = await signAuthorization(chain, owner, { subscriptionId, value: 8_000_000n })
    await submitAuthorization(w, { orgId, subscriptionId, auth: topUp })
    s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({ subscriptionId, state: 'active', cap: 8_000_000n })
    const allowance = await chain.deployer.readContract({
      address: chain.deployment.usdc,
      abi: (await import('../../src/chain/abis.js')).usdcAbi,
      functionName: 'allowance',
      args: [owner.address, chain.deployment.collector!],
    })
    expect(allowance).toBe(8_000_000n)
  })

  test('a first permit whose nonce another permit consumed → needs_reauth; a fresh signature activates the same id', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    const ours = await signAuthorization(chain, owner, { subscriptionId, value: 5_000_000n })
    // Another app's permit, for another spender, is submitted first: the owner's nonce moves on.
    const otherApp = privateKeyToAccount(generatePrivateKey()).address
    const theirs = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 1n,
      spender: otherApp,
    })
    const { usdcAbi } = await import('../../src/chain/abis.js')
    await chain.deployer.waitForTransactionReceipt({
      hash: await chain.deployer.writeContract({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        functionName: 'permit',
        args: [owner.address, otherApp, 1n, theirs.permit.deadline, theirs.permit.signature],
      }),
    })
    const refused = await submitAuthorization(w, { orgId, subscriptionId, auth: ours }).catch(
      (e) => e,
    )
    expect(refused.details).toMatchObject({ reason: 'nonce_used' })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'needs_reauth',
      stateReason: 'permit_unusable:nonce_used',
    })
    const fresh = await signAuthorization(chain, owner, { subscriptionId, value: 5_000_000n })
    await submitAuthorization(w, { orgId, subscriptionId, auth: fresh })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      subscriptionId,
      state: 'active',
      cap: 5_000_000n,
    })
  })
})

describe('a code-less owner’s signature is held to USDC’s ECDSA rules', () => {
  test('a high-s permit (ecrecover and viem accept it, USDC does not) is refused before sending; the low-s one activates', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    const auth = await signAuthorization(chain, owner, { subscriptionId, value: 5_000_000n })
    const { r, s, yParity } = parseSignature(auth.permit.signature)
    const highS = serializeSignature({
      r,
      s: numberToHex(SECP256K1_ORDER - hexToBigInt(s), { size: 32 }),
      v: yParity === 0 ? 28n : 27n,
    })
    const before = await chain.operator.getTransactionCount({
      address: chain.operator.account.address,
    })
    const refused = await submitAuthorization(w, {
      orgId,
      subscriptionId,
      auth: { ...auth, permit: { ...auth.permit, signature: highS } },
    }).catch((e) => e)
    expect(refused.details).toMatchObject({ reason: 'bad_signature' })
    // Nothing was sent and the subscription still waits for a signature.
    expect(
      await chain.operator.getTransactionCount({ address: chain.operator.account.address }),
    ).toBe(before)
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'pending' })
    await submitAuthorization(w, { orgId, subscriptionId, auth })
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'active', cap: 5_000_000n })
  })
})

describe('an authorization whose nonce another transaction took', () => {
  test('is sent again at a fresh nonce: the node mined none of its hashes, so the permit is unused', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const operator = chain.operator
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    const auth = await signAuthorization(chain, owner, { subscriptionId, value: 5_000_000n })
    type Row = { nonce: number; status: string; tx_hashes: `0x${string}`[] }
    const rows = async (): Promise<Row[]> => [
      ...(await db.$client<Row[]>`
        select nonce, status, tx_hashes from operator_txs where purpose = ${`authorize:${subscriptionId}`} order by id`),
    ]
    await chain.testClient.setAutomine(false)
    let submitting: Promise<unknown>
    try {
      submitting = submitAuthorization(w, { orgId, subscriptionId, auth })
      submitting.catch(() => {})
      let sent: Row[] = []
      for (let i = 0; i < 100 && sent[0]?.status !== 'sent'; i++) {
        await new Promise((r) => setTimeout(r, 50))
        sent = await rows()
      }
      expect(sent).toMatchObject([{ status: 'sent' }])
      // The operator key used elsewhere at the same nonce, and only that one mined.
      await chain.testClient.dropTransaction({ hash: sent[0]!.tx_hashes[0]! })
      await operator.sendTransaction({
        to: operator.account.address,
        value: 0n,
        nonce: sent[0]!.nonce,
      })
      await chain.testClient.mine({ blocks: 1 })
    } finally {
      await chain.testClient.setAutomine(true)
    }
    await submitting
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'active', cap: 5_000_000n })
    const [first, second] = await rows()
    expect(first).toMatchObject({ status: 'superseded' })
    expect(second).toMatchObject({ status: 'mined', nonce: first!.nonce + 1 })
  })
})

describe('the collector opens a subscription only with the owner’s terms', () => {
  test('a permit alone never opens one: refused before sending, and by the collector too', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    const alone = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 5_000_000n,
      terms: false,
    })
    const refused = await submitAuthorization(w, { orgId, subscriptionId, auth: alone }).catch(
      (e) => e,
    )
    expect(refused.details).toMatchObject({ reason: 'terms_required' })
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'pending' })
    await expect(
      authorizeOnCollector(chain, { subscriptionId, owner: owner.address, permit: alone.permit }),
    ).rejects.toThrow(/TermsRequired/)
  })

  test('terms someone submitted first (identical) do not make the owner’s re-up with them fail', async ({
    db,
    chain,
  }) => {
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const owner = privateKeyToAccount(generatePrivateKey())
    const { orgId, subscriptionId } = await newOrg(db)
    await submitAuthorization(w, {
      orgId,
      subscriptionId,
      auth: await signAuthorization(chain, owner, { subscriptionId, value: 5_000_000n }),
    })
    const reup = await signAuthorization(chain, owner, {
      subscriptionId,
      value: 8_000_000n,
      terms: { cap: 8_000_000n, limit: 2_000_000n, nonce: 2 },
    })
    // A front-runner copies the terms out of the pending transaction and submits them alone.
    const { collectorAbi } = await import('../../src/chain/abis.js')
    const { subscriptionKey } = await import('../../src/subscriptions/typedData.js')
    const { signature, ...terms } = reup.terms!
    await chain.deployer.waitForTransactionReceipt({
      hash: await chain.deployer.writeContract({
        address: chain.deployment.collector!,
        abi: collectorAbi,
        functionName: 'setTerms',
        args: [subscriptionKey(subscriptionId), terms, signature],
      }),
    })
    await submitAuthorization(w, { orgId, subscriptionId, auth: reup })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'active',
      cap: 8_000_000n,
      monthlyLimit: 2_000_000n,
    })
  })
})
