import { type Hex, parseEventLogs, type TypedDataDefinition } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ownerDeploymentDue } from '../../src/aa/ownerDeploymentDue.js'
import { verifyOwnerSignature } from '../../src/aa/verifyOwnerSignature.js'
import { collectorAbi } from '../../src/chain/abis.js'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter, newOrg } from '../ledger/helpers.js'
import { settlementContext } from '../settlement/helpers.js'
import { aaAddresses } from '../support/aaAddresses.js'
import { authorizeOnCollector } from '../support/authorizeOnCollector.js'
import { authorizeOwner, permitValueForNewCap } from '../support/authorizeOwner.js'
import { readSubscription } from '../support/readSubscription.js'
import { signOwnerCancel, type TypedDataSigner } from '../support/signOwnerCancel.js'
import type { SmartAccountKind } from '../support/toOwnerSmartAccount.js'
import { toOwnerSmartAccount } from '../support/toOwnerSmartAccount.js'
import { usdcBalance } from '../support/usdcBalance.js'
import {
  aaRig,
  frontRunPermit,
  newSmartOwner,
  permitOf,
  signOwnerAuthorization,
} from './helpers.js'

const cases: { label: string; kind: SmartAccountKind; deployed: boolean }[] = [
  { label: 'Safe 1.4.1 (4337 module), deployed', kind: 'safe', deployed: true },
  { label: 'Safe 1.4.1 (4337 module), counterfactual', kind: 'safe', deployed: false },
  { label: 'EIP-7702 account (Simple7702Account), delegated', kind: 'simple7702', deployed: true },
]

const strangerKey: Hex = `0x${'5a'.repeat(32)}`

describe('smart-account owners through the collector and settlement (authorizeOwner, settleOnce, cancelSubscription)', () => {
  test.for(cases)(
    '$label: a non-owner key is refused; authorize; usage settles out of the smart account; re-authorize; cancel by signature',
    async ({ kind, deployed }, { db, chain }) => {
      const rig = await aaRig(chain)
      const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
      const owner = await newSmartOwner(chain, rig, { kind, deployed, usdc: 3_000_000n })
      const wallet = owner.account.address
      const { orgId, subscriptionId } = await newOrg(db, 0n)
      const submit = (auth: SignedAuthorization) =>
        authorizeOwner(ctx, {
          orgId,
          subscriptionId,
          owner: auth.owner,
          permit: auth.permit,
          terms: auth.terms,
        })

      // A stranger's key signing for this wallet, as that wallet kind would sign.
      const stranger: TypedDataSigner =
        kind === 'safe'
          ? await toOwnerSmartAccount(rig.reader, {
              kind,
              owner: privateKeyToAccount(strangerKey),
              address: wallet,
            })
          : privateKeyToAccount(strangerKey)
      const forged = await signOwnerAuthorization(chain, stranger, {
        subscriptionId,
        value: 2_000_000n,
        owner: wallet,
      })
      const refused = await submit(forged).catch((e) => e)
      expect(refused.details).toMatchObject({ reason: 'bad_signature' })
      // The collector (and the token behind it) refuse it too, had the check been skipped.
      await expect(
        authorizeOnCollector(chain, {
          subscriptionId,
          owner: wallet,
          permit: forged.permit,
          terms: forged.terms!,
        }),
      ).rejects.toThrow(/PermitRejected/)

      const auth = await signOwnerAuthorization(chain, owner.account, {
        subscriptionId,
        value: 2_000_000n,
        terms: { limit: 1_000_000n, nonce: 1 },
      })
      const permit = await permitOf(chain, { wallet, auth })
      const checked = await verifyOwnerSignature(rig.reader, {
        owner: wallet,
        typedData: permit as TypedDataDefinition,
        signature: auth.permit.signature,
      })
      expect(checked).toMatchObject({
        valid: true,
        ownerKind: deployed ? (kind === 'safe' ? 'contract' : 'eip7702') : 'counterfactual',
      })
      if (!deployed) {
        // Held off-chain while nothing is due: no deployment gas for a sign-up that never pays.
        expect(
          await ownerDeploymentDue(rig.reader, {
            token: chain.deployment.usdc,
            owner: wallet,
            amountDue: 0n,
          }),
        ).toMatchObject({ deploy: false, reason: 'nothing_due' })
        expect(
          await ownerDeploymentDue(rig.reader, {
            token: chain.deployment.usdc,
            owner: wallet,
            amountDue: 5_000_000n,
          }),
        ).toMatchObject({ deploy: false, reason: 'balance_short', balance: 3_000_000n })
        expect(
          await ownerDeploymentDue(rig.reader, {
            token: chain.deployment.usdc,
            owner: wallet,
            amountDue: 21_000n,
          }),
        ).toMatchObject({ deploy: true, reason: 'due' })
        expect(checked.deployment?.factory).toBe(aaAddresses.safeProxyFactory141)
        expect(await owner.account.isDeployed()).toBe(false)
      }

      // Permit and terms in one transaction; a counterfactual Safe's is held, nothing sent.
      const first = await submit(auth)
      expect(first.held).toBe(!deployed)
      expect(await owner.account.isDeployed()).toBe(deployed)
      expect(await getBillingSummary(db, orgId)).toMatchObject({
        state: 'active',
        cap: 2_000_000n,
        remaining: 2_000_000n,
        monthlyLimit: 1_000_000n,
      })

      const meter = makeMeter(db)
      for (let i = 0; i < 3; i++) await meter.meter({ orgId, action: 'claim_issue' })
      const payeeBefore = await usdcBalance(chain, chain.deployment.payee)
      // The first charge is due: a held authorization goes out with it, the validator deploying the Safe.
      expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect(await owner.account.isDeployed()).toBe(true)
      expect(await usdcBalance(chain, wallet)).toBe(3_000_000n - 21_000n)
      expect((await usdcBalance(chain, chain.deployment.payee)) - payeeBefore).toBe(21_000n)

      // Re-authorize on the same subscription: the wallet now has code, so plain ERC-1271.
      const value = await permitValueForNewCap(db, { orgId, cap: 2_500_000n })
      expect(value).toBe(2_479_000n)
      const again = await signOwnerAuthorization(chain, owner.account, { subscriptionId, value })
      expect(again.permit.nonce).toBe(1n)
      await submit(again)
      expect(await getBillingSummary(db, orgId)).toMatchObject({
        state: 'active',
        subscriptionId,
        cap: 2_500_000n,
        remaining: 2_479_000n,
      })
      await meter.meter({ orgId, action: 'save_comment' })
      expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ collected: 1 })
      expect(await usdcBalance(chain, wallet)).toBe(3_000_000n - 26_000n)

      // Cancel: a stranger's signature is refused by the collector; the owner's cancels.
      const bad = await cancelSubscription(ctx, {
        orgId,
        subscriptionId,
        ...(await signOwnerCancel(chain, stranger, { subscriptionId })),
      }).catch((e) => e)
      expect(bad.code).toBe('SIGNATURE_REJECTED')
      await cancelSubscription(ctx, {
        orgId,
        subscriptionId,
        ...(await signOwnerCancel(chain, owner.account, { subscriptionId })),
      })
      expect(await getBillingSummary(db, orgId)).toMatchObject({
        state: 'canceled',
        drawn: 26_000n,
      })
      const onChain = await readSubscription(chain, subscriptionId)
      expect(onChain).toMatchObject({ owner: wallet, status: 2, totalCollected: 26_000n })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
      await meter.close()
    },
  )

  test('counterfactual Safe whose permit someone submitted first (deploying it through the validator): the collector still authorizes with the 6492 signature — "already used, allowance in place"', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const owner = await newSmartOwner(chain, rig, {
      kind: 'safe',
      deployed: false,
      usdc: 1_000_000n,
    })
    const wallet = owner.account.address
    const subscriptionId = 'ab'.repeat(16)
    const auth = await signOwnerAuthorization(chain, owner.account, {
      subscriptionId,
      value: 700_000n,
    })
    // A front-runner: deploys the Safe through the validator, then submits the inner signature.
    await frontRunPermit(chain, rig, { wallet, auth })
    const hash = await chain.operator.writeContract({
      address: chain.deployment.collector!,
      abi: collectorAbi,
      functionName: 'authorizeWithTerms',
      args: [
        subscriptionKey(subscriptionId),
        wallet,
        { value: 700_000n, deadline: auth.permit.deadline, nonce: 0n },
        auth.permit.signature,
        auth.terms!,
        auth.terms!.signature,
      ],
    })
    const receipt = await chain.operator.waitForTransactionReceipt({ hash })
    const [authorized] = parseEventLogs({
      abi: collectorAbi,
      logs: receipt.logs,
      eventName: 'Authorized',
    })
    expect(authorized?.args).toMatchObject({ owner: wallet, allowance: 700_000n, created: true })
  })
})
