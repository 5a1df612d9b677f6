import { privateKeyToAccount } from 'viem/accounts'
import { submitHeldAuthorization } from '../../src/subscriptions/submitHeldAuthorization.js'
import { describe, expect, test } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { settlementContext } from '../settlement/helpers.js'
import { authorizeOwner } from '../support/authorizeOwner.js'
import type { SmartAccountKind } from '../support/toOwnerSmartAccount.js'
import { aaRig, newSmartOwner, signOwnerAuthorization } from './helpers.js'

/**
 * Gas of the one transaction that authorizes a subscription (permit + terms), by owner kind —
 * what the operator pays at sign-up, and what a held counterfactual authorization costs when it
 * is sent with its first charge (the Safe deployed through the unprivileged 6492 validator in the
 * same transaction). Printed for the record: `npx vitest run test/aa/authorizeGas`.
 */
describe('authorization gas by owner kind', () => {
  test('EOA < deployed Safe (ERC-1271) < counterfactual Safe (deployed by the validator)', async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const ctx = { db, operator: chain.operator, deployment: chain.deployment }
    const gasOf = async (signer: Parameters<typeof signOwnerAuthorization>[1]) => {
      const { orgId, subscriptionId } = await newOrg(db, 0n)
      const auth = await signOwnerAuthorization(chain, signer, {
        subscriptionId,
        value: 2_000_000n,
        terms: { limit: 1_000_000n, nonce: 1 },
      })
      const authorized = await authorizeOwner(ctx, { orgId, subscriptionId, ...auth })
      if (!authorized.held)
        return (await chain.deployer.getTransactionReceipt({ hash: authorized.txHash })).gasUsed
      // A counterfactual owner's authorization is held at sign-up (no operator gas) and sent
      // when its first charge is due and the wallet can pay it: that transaction is measured.
      const sent = await submitHeldAuthorization(settlementContext(db, chain), {
        orgId,
        subscriptionId,
        amountDue: 1n,
      })
      if (sent.outcome !== 'submitted') throw new Error(`held authorization: ${sent.outcome}`)
      return (await chain.deployer.getTransactionReceipt({ hash: sent.txHash })).gasUsed
    }
    const smart = async (kind: SmartAccountKind, deployed: boolean) =>
      (await newSmartOwner(chain, rig, { kind, deployed, usdc: 1_000_000n })).account
    const figures = {
      eoa: await gasOf(privateKeyToAccount(`0x${'71'.repeat(32)}`)),
      safeDeployed: await gasOf(await smart('safe', true)),
      safeCounterfactual: await gasOf(await smart('safe', false)),
    }
    console.log(
      `authorize gas (permit + terms): ${JSON.stringify(figures, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`,
    )
    expect(figures.eoa).toBeLessThan(figures.safeDeployed)
    expect(figures.safeDeployed).toBeLessThan(figures.safeCounterfactual)
  })
})
