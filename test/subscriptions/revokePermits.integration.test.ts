import { usdcAbi } from '../../src/chain/abis.js'
import { bookCharges } from '../../src/ledger/index.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { prepareRevocation, revokePermits } from '../../src/subscriptions/revokePermits.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from '../settlement/helpers.js'
import { authorizeOnCollector } from '../support/authorizeOnCollector.js'
import { permitValueForNewCap } from '../support/authorizeOwner.js'
import { readSubscription } from '../support/readSubscription.js'
import { signAuthorization } from './helpers.js'

describe('owner-signed revocation of outstanding permits, without canceling', () => {
  test('a permit signed and never submitted is void afterwards; allowance and cap stay; collection goes on', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [o.orgId] })
    const read = () =>
      Promise.all([
        readSubscription(chain, o.subscriptionId),
        chain.deployer.readContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'allowance',
          args: [o.owner.address, chain.deployment.collector!],
        }),
      ])
    const [before, allowanceBefore] = await read()
    // A top-up to $5 the owner signed and never sent (a leaked page, a held copy).
    const outstanding = await signAuthorization(chain, o.owner, {
      subscriptionId: o.subscriptionId,
      value: 5_000_000n,
      terms: false,
    })

    // A stranger's signature, or the owner's at a used nonce, is refused: nothing sent.
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 900)
    const typed = await prepareRevocation(
      { db, client: chain.deployer, deployment: chain.deployment },
      { orgId: o.orgId, deadline },
    )
    expect(typed.message).toMatchObject({
      owner: o.owner.address,
      spender: chain.deployment.collector,
      value: allowanceBefore,
      nonce: outstanding.permit.nonce,
    })
    const { privateKeyToAccount, generatePrivateKey } = await import('viem/accounts')
    const stranger = privateKeyToAccount(generatePrivateKey())
    const permitOf = async (signer: typeof stranger) => ({
      value: typed.message.value,
      deadline,
      nonce: typed.message.nonce,
      signature: await signer.signTypedData(typed),
    })
    await expect(
      revokePermits(w, { orgId: o.orgId, permit: await permitOf(stranger) }),
    ).rejects.toMatchObject({ code: 'SIGNATURE_REJECTED', details: { reason: 'bad_signature' } })

    const revoked = await revokePermits(w, { orgId: o.orgId, permit: await permitOf(o.owner) })
    expect(revoked).toMatchObject({
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      nonce: outstanding.permit.nonce + 1n,
      allowance: 993_000n,
    })
    const [after, allowanceAfter] = await read()
    expect(allowanceAfter).toBe(allowanceBefore)
    expect(after.cap).toBe(before.cap)
    expect(after.status).toBe(1)

    // The outstanding permit is void: the token refuses it, and so does the collector.
    await expect(
      submitAuthorization(w, {
        orgId: o.orgId,
        subscriptionId: o.subscriptionId,
        auth: outstanding,
      }),
    ).rejects.toMatchObject({ details: { reason: 'nonce_used' } })
    await expect(
      authorizeOnCollector(chain, {
        subscriptionId: o.subscriptionId,
        owner: o.owner.address,
        permit: outstanding.permit,
      }),
    ).rejects.toThrow(/PermitRejected|PermitNonceUsed/)
    // The same revocation again: its nonce is used.
    await expect(
      revokePermits(w, { orgId: o.orgId, permit: await permitOf(o.owner) }),
    ).rejects.toMatchObject({ details: { reason: 'nonce_used' } })

    // Nothing else changed: the next charge collects, and the books match the chain.
    await meter.meter({ orgId: o.orgId, action: 'save_comment' })
    await meter.close()
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 1 })
    expect(
      await reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: o.orgId },
      ),
    ).toEqual([])
  })
})

describe('a re-up while a pull is in flight (L2)', () => {
  test('a charge booked and pulled after the owner signed a new cap cannot take them past it', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const w = { db, operator: chain.operator, deployment: chain.deployment }
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 100_000n, balance: 1_000_000n })
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [o.orgId] })
    // The owner raises the lifetime cap to $0.20: the page works the permit's value out from
    // what is collected and booked now ($0.007 and nothing), and the owner signs it.
    const newCap = 200_000n
    const value = await permitValueForNewCap(db, { orgId: o.orgId, cap: newCap })
    expect(value).toBe(193_000n)
    const auth = await signAuthorization(chain, o.owner, {
      subscriptionId: o.subscriptionId,
      value,
      terms: false,
    })
    // Meanwhile a charge is booked and pulled, before the permit lands.
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    await meter.close()
    await bookCharges(db, { orgId: o.orgId })
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 1 })
    await submitAuthorization(w, {
      orgId: o.orgId,
      subscriptionId: o.subscriptionId,
      auth,
      cap: newCap,
    })
    const onChain = await readSubscription(chain, o.subscriptionId)
    // The collector holds the owner to the cap they chose: $0.014 collected + $0.186 left.
    expect(onChain.totalCollected).toBe(14_000n)
    expect(onChain.cap).toBe(newCap)
    const [sub] = await db.$client<{ allowance: bigint; drawn: bigint }[]>`
      select allowance, drawn from subscriptions where id = ${o.subscriptionId}`
    expect(sub!.drawn + sub!.allowance).toBe(newCap)
    expect(
      await reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: o.orgId },
      ),
    ).toEqual([])
  })
})

describe('the owner revokes through the API', () => {
  test('GET /v1/billing/revocation gives the permit to sign; POST submits it; a member may not', async ({
    db,
    chain,
  }) => {
    const { signInWithSiwe, startApi } = await import('../api/server.js')
    const { attachChain } = await import('../browser/browser.js')
    const { privateKeyToAccount, generatePrivateKey } = await import('viem/accounts')
    const { mintUsdc } = await import('../../src/chain/deployContracts.js')
    const { authorizeOwner } = await import('../support/authorizeOwner.js')
    const api = await startApi(db)
    attachChain(api, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    await mintUsdc(chain.deployer, chain.deployment, { to: owner.address, amount: 1_000_000n })
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'revoker', owner_address: owner.address },
    })
    const subscriptionId = org.json.subscription_id as string
    const auth = await signAuthorization(chain, owner, { subscriptionId, value: 1_000_000n })
    await authorizeOwner(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId: org.json.org.id, subscriptionId, ...auth },
    )
    const session = await signInWithSiwe(api, owner)

    expect(
      (await api.call('GET', '/v1/billing/revocation', { key: org.json.api_key })).status,
    ).toBe(403)
    const prepared = await api.call('GET', '/v1/billing/revocation', { key: session })
    expect(prepared.status).toBe(200)
    const typed = prepared.json.typed_data
    expect(typed.message).toMatchObject({ owner: owner.address, value: '1000000', nonce: '1' })
    const signature = await owner.signTypedData({
      ...typed,
      message: {
        ...typed.message,
        value: BigInt(typed.message.value),
        nonce: BigInt(typed.message.nonce),
        deadline: BigInt(typed.message.deadline),
      },
    })
    const permit = {
      value: typed.message.value,
      nonce: typed.message.nonce,
      deadline: typed.message.deadline,
      signature,
    }
    const bad = await api.call('POST', '/v1/billing/revocation', {
      key: session,
      body: { permit: { ...permit, value: '5' } },
      headers: { 'idempotency-key': 'revoke-bad' },
    })
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'SIGNATURE_REJECTED' } } })
    const done = await api.call('POST', '/v1/billing/revocation', {
      key: session,
      body: { permit },
      headers: { 'idempotency-key': 'revoke-1' },
    })
    expect(done.status).toBe(200)
    expect(done.json).toMatchObject({ nonce: '2', allowance: '1000000' })
    // A retry with the key answers the first outcome, and sends nothing again.
    const again = await api.call('POST', '/v1/billing/revocation', {
      key: session,
      body: { permit },
      headers: { 'idempotency-key': 'revoke-1' },
    })
    expect(again).toMatchObject({ status: 200, json: done.json })
    await api.stop()
  })
})
