import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { describe, expect, test } from '../fixtures.js'
import { siweMessage } from '../support/siweMessage.js'
import { startApi, usageAndLedgerLines } from './server.js'

// What the API fuzzer (fuzz.e2e.test.ts) found beyond the crash and the 500s, one test each.

type Api = Awaited<ReturnType<typeof startApi>>

const signUp = async (api: Api, wallet = privateKeyToAccount(generatePrivateKey())) => {
  const org = await api.call('POST', '/v1/orgs', {
    body: { name: 'findings', owner_address: wallet.address },
  })
  return { wallet, key: org.json.api_key as string, orgId: org.json.org.id as string }
}

describe('found by the API fuzzer', () => {
  test('a claim that cannot succeed is refused before metering: 409, no ledger line', async ({
    db,
  }) => {
    const api = await startApi(db)
    const { key, orgId } = await signUp(api)
    const issue = (await api.call('POST', '/v1/issues', { key, body: { title: 'once' } })).json
      .issue.id
    expect((await api.call('POST', `/v1/issues/${issue}/claim`, { key, body: {} })).status).toBe(
      200,
    )
    const before = await usageAndLedgerLines(api, orgId)
    const again = await api.call('POST', `/v1/issues/${issue}/claim`, { key, body: {} })
    expect(again.status).toBe(409)
    expect(again.json.error.code).toBe('ALREADY_CLAIMED')
    // It used to be charged and then voided: a usage row and two ledger lines for a refusal.
    expect(await usageAndLedgerLines(api, orgId)).toBe(before)
    await api.stop()
  })

  test('every timestamp the API answers with is RFC 3339, never PostgreSQL’s own text', async ({
    db,
  }) => {
    const api = await startApi(db)
    const { key, wallet, orgId } = await signUp(api)
    const nonce = (await api.call('GET', '/v1/auth/nonce')).json.nonce
    const message = siweMessage(wallet.address, nonce)
    const signIn = await api.call('POST', '/v1/auth/siwe', {
      body: { message, signature: await wallet.signMessage({ message }) },
    })
    const owner = signIn.json.token as string
    const issue = (await api.call('POST', '/v1/issues', { key, body: { title: 't' } })).json.issue
      .id
    const admin = `0x${randomBytes(20).toString('hex')}`
    await api.call('POST', '/v1/admins', { key: owner, body: { address: admin } })
    const made = await api.call('POST', '/v1/keys', { key: owner, body: { label: 'x' } })
    const times = [
      signIn.json.expires_at,
      (await api.call('POST', '/v1/session-keys', { key, body: {} })).json.expires_at,
      (await api.call('POST', `/v1/issues/${issue}/comments`, { key, body: { body: 'c' } })).json
        .comment.created_at,
      (
        await api.call('POST', `/v1/issues/${issue}/attachments`, {
          key,
          body: { name: 'a', content_type: 'text/plain', size_bytes: 1 },
        })
      ).json.attachment.created_at,
      (await api.call('GET', `/v1/issues/${issue}/comments`, { key })).json.comments[0].created_at,
      (await api.call('GET', `/v1/issues/${issue}`, { key })).json.issue.attachments[0].created_at,
      made.json.key.created_at,
      ...(await api.call('GET', '/v1/keys', { key: owner })).json.keys.map(
        (k: { created_at: string }) => k.created_at,
      ),
      (await api.call('DELETE', `/v1/keys/${made.json.key.id}`, { key: owner })).json.key
        .revoked_at,
      (await api.call('GET', `/v1/orgs/${orgId}/admins`, { key: owner })).json.admins[0].created_at,
      (await api.call('GET', '/v1/billing/transactions', { key })).json.transactions[0].at,
    ]
    expect(times).toHaveLength(12)
    for (const t of times) {
      expect(z.iso.datetime({ offset: true }).safeParse(t).success, String(t)).toBe(true)
      expect(Math.abs(new Date(t).getTime() - Date.now())).toBeLessThan(13 * 3_600_000)
    }
    await api.stop()
  })
})
