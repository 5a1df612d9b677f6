import { encodeFunctionData, parseEventLogs } from 'viem'
import { entryPoint07Address, entryPoint08Address } from 'viem/account-abstraction'
import { collectorAbi, usdcAbi } from '../../src/chain/abis.js'
import { getBillingSummary } from '../../src/ledger/index.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { authorizeOwner } from '../support/authorizeOwner.js'
import { deploySmartAccount } from '../support/deploySmartAccount.js'
import {
  sendUserOperationDirect,
  UserOperationRevertedError,
} from '../support/sendUserOperationDirect.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, newSmartOwner, signOwnerAuthorization } from './helpers.js'

const sink = '0x000000000000000000000000000000000000dEaD'
const transfer = (amount: bigint) =>
  encodeFunctionData({ abi: usdcAbi, functionName: 'transfer', args: [sink, amount] })

describe('user operations through the EntryPoint (self-bundled handleOps)', () => {
  test('counterfactual Safe: the first operation deploys it from initCode and moves USDC; its owner then cancels a subscription by its own transaction', async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const safe = await newSmartOwner(chain, rig, {
      kind: 'safe',
      deployed: false,
      usdc: 2_000_000n,
    })
    expect(safe.account.entryPoint.address).toBe(entryPoint07Address)
    const usdc = chain.deployment.usdc
    const first = await sendUserOperationDirect(rig.relayer, {
      account: safe.account,
      calls: [{ to: usdc, data: transfer(500_000n) }],
    })
    expect(await safe.account.isDeployed()).toBe(true)
    expect(await usdcBalance(chain, safe.account.address)).toBe(1_500_000n)
    expect(first.userOpHash).toMatch(/^0x[0-9a-f]{64}$/)

    // A call that reverts inside the account surfaces as a typed error; nothing moved.
    await expect(
      sendUserOperationDirect(rig.relayer, {
        account: safe.account,
        calls: [{ to: usdc, data: transfer(9_000_000n) }],
      }),
    ).rejects.toBeInstanceOf(UserOperationRevertedError)
    expect(await usdcBalance(chain, safe.account.address)).toBe(1_500_000n)

    // Authorized by signature, canceled by the owner's own transaction (the trust-free fallback).
    const { orgId, subscriptionId } = await newOrg(db, 0n)
    const auth = await signOwnerAuthorization(chain, safe.account, {
      subscriptionId,
      value: 1_000_000n,
    })
    await authorizeOwner(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId, subscriptionId, owner: auth.owner, permit: auth.permit, terms: auth.terms },
    )
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'active' })
    const { hash } = await sendUserOperationDirect(rig.relayer, {
      account: safe.account,
      calls: [
        {
          to: chain.deployment.collector!,
          data: encodeFunctionData({
            abi: collectorAbi,
            functionName: 'cancel',
            args: [subscriptionKey(subscriptionId)],
          }),
        },
      ],
    })
    const receipt = await chain.deployer.getTransactionReceipt({ hash })
    const [canceled] = parseEventLogs({
      abi: collectorAbi,
      logs: receipt.logs,
      eventName: 'Canceled',
    })
    expect(canceled?.args).toMatchObject({ owner: safe.account.address, bySignature: false })
  })

  test('EIP-7702 account through EntryPoint v0.8, and SimpleAccount v0.7 deployed from initCode', async ({
    chain,
  }) => {
    const rig = await aaRig(chain)
    const eoa = await newSmartOwner(chain, rig, {
      kind: 'simple7702',
      deployed: true,
      usdc: 1_000_000n,
    })
    expect(eoa.account.entryPoint.address).toBe(entryPoint08Address)
    await sendUserOperationDirect(rig.relayer, {
      account: eoa.account,
      calls: [
        { to: chain.deployment.usdc, data: transfer(100_000n) },
        { to: chain.deployment.usdc, data: transfer(200_000n) },
      ],
    })
    expect(await usdcBalance(chain, eoa.account.address)).toBe(700_000n)

    const undelegated = await newSmartOwner(chain, rig, { kind: 'simple7702', deployed: false })
    await expect(
      sendUserOperationDirect(rig.relayer, { account: undelegated.account, calls: [] }),
    ).rejects.toThrow(/delegate/)
    await deploySmartAccount(rig.relayer, { account: undelegated.account })

    const simple = await newSmartOwner(chain, rig, {
      kind: 'simple',
      deployed: false,
      usdc: 1_000_000n,
    })
    await sendUserOperationDirect(rig.relayer, {
      account: simple.account,
      calls: [{ to: chain.deployment.usdc, data: transfer(1_000_000n) }],
    })
    expect(await simple.account.isDeployed()).toBe(true)
    expect(await usdcBalance(chain, simple.account.address)).toBe(0n)
  })
})
