import { usdcAbi } from '../../src/chain/abis.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from '../settlement/helpers.js'
import { rigBaseUrl, startNotificationRig } from '../support/notificationRig.js'
import { signOwnerCancel } from '../support/signOwnerCancel.js'

describe('events from settlement on anvil with real USDC, delivered by webhook and mail', () => {
  test('collected, failed (empty wallet), revoked allowance, cancel: each delivered once, signed, with its link', async ({
    db,
    chain,
  }) => {
    const rig = await startNotificationRig(db, chain.deployment.chainId)
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const paid = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const broke = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
    const revoked = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const canceled = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const orgs = [paid, broke, revoked, canceled]
    for (const [i, o] of orgs.entries()) await rig.subscribe(o.orgId, `owner${i}@example.test`)
    for (const o of orgs) await meter.meter({ orgId: o.orgId, action: 'claim_issue' }) // 7,000
    // The owner of `revoked` sets the collector's allowance to 0 with their own transaction.
    await chain.testClient.setBalance({ address: revoked.owner.address, value: 10n ** 18n })
    await (await chain.signerFor(revoked.ownerKey)).writeContract({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      functionName: 'approve',
      args: [chain.deployment.collector!, 0n],
    })
    const report = await settleOnce(ctx, { orgIds: [paid.orgId, broke.orgId, revoked.orgId] })
    expect(report).toMatchObject({ collected: 1 })
    await cancelSubscription(ctx, {
      orgId: canceled.orgId,
      subscriptionId: canceled.subscriptionId,
      ...(await signOwnerCancel(chain, canceled.owner, {
        subscriptionId: canceled.subscriptionId,
      })),
    })
    // The delivery worker, twice over (a second pass must send nothing again).
    await rig.drain()
    await rig.drain()

    // Every request verifies with its org's endpoint secret; ids are unique (delivered once).
    const bodies = rig.delivered()
    const ids = bodies.map((b) => b.webhookId)
    expect(new Set(ids).size).toBe(ids.length)
    const of = (o: { orgId: string }) =>
      bodies.filter((b) => b.org_id === o.orgId && b.type !== 'subscription.activated')
    const manage = rig.manageUrl

    const [collected] = of(paid)
    expect(of(paid)).toHaveLength(1)
    expect(collected).toMatchObject({
      type: 'charge.collected',
      data: {
        amount_micros: '7000',
        tx_hash: report.txHashes[0],
        manage_url: manage(paid),
      },
    })

    expect(of(broke).map((b) => b.type)).toEqual(['charge.failed', 'subscription.lapsed'])
    expect(of(broke)[0]!.data).toMatchObject({
      amount_micros: '7000',
      reason: 'balance',
      manage_url: manage(broke),
    })

    expect(of(revoked).map((b) => b.type)).toEqual(['subscription.lapsed'])
    expect(of(revoked)[0]!.data).toMatchObject({
      reason: 'allowance_revoked',
      reason_text: 'the token allowance for the collector was revoked',
      manage_url: manage(revoked),
    })

    // Canceled: its usage collected first, then the cancel.
    expect(of(canceled).map((b) => b.type)).toEqual(['charge.collected', 'subscription.canceled'])
    expect(of(canceled)[1]!.data).toMatchObject({ manage_url: manage(canceled) })

    // Mail: one per event kind per owner, each with the re-up link and an unsubscribe link.
    const mailsTo = (i: number) => rig.mailsTo(`owner${i}@example.test`)
    const subjects = (i: number) =>
      mailsTo(i)
        .map((m) => m.subject)
        .filter((s) => !s.includes('active'))
        .sort()
    expect(subjects(0)).toEqual(['Tollgate: A charge was collected'])
    expect(subjects(1)).toEqual([
      'Tollgate: A charge could not be collected',
      'Tollgate: Your subscription lapsed: calls are refused',
    ])
    expect(subjects(2)).toEqual(['Tollgate: Your subscription lapsed: calls are refused'])
    expect(subjects(3)).toEqual([
      'Tollgate: A charge was collected',
      'Tollgate: Your subscription is canceled',
    ])
    for (const [i, o] of orgs.entries())
      for (const m of mailsTo(i)) {
        expect(m.text).toContain(manage(o))
        expect(m.text).toContain(`${rigBaseUrl}/notices/unsubscribe?token=`)
      }
    expect(mailsTo(2)[0]!.text + mailsTo(2)[1]?.text).toContain(
      'the token allowance for the collector was revoked',
    )
    await meter.close()
    await rig.stop()
  })
})
