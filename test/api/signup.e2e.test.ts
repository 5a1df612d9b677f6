import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from '../fixtures.js'
import { siweMessage } from '../support/siweMessage.js'
import { startApi } from './server.js'

const owner = () => `0x${randomBytes(20).toString('hex')}`
type Api = Awaited<ReturnType<typeof startApi>>

async function signInOwner(api: Api, wallet: ReturnType<typeof privateKeyToAccount>) {
  const nonce = (await api.call('GET', '/v1/auth/nonce')).json.nonce
  const message = siweMessage(wallet.address, nonce)
  const res = await api.call('POST', '/v1/auth/siwe', {
    body: { message, signature: await wallet.signMessage({ message }) },
  })
  expect(res.status).toBe(200)
  expect(res.text).not.toContain('stack')
  return res
}

describe('sign-up limits, session keys and admins over HTTP', () => {
  test('sign-ups per client address are limited (429 in the envelope); failed ones do not count', async ({
    db,
  }) => {
    const api = await startApi(db, {}, { rateLimits: { signupsPerIpPerHour: 2 } })
    // Bad input does not use up the address's budget.
    for (let i = 0; i < 3; i++) {
      const bad = await api.call('POST', '/v1/orgs', { body: { name: 'x', owner_address: 'nope' } })
      expect(bad.status).toBe(400)
    }
    for (let i = 0; i < 2; i++) {
      const ok = await api.call('POST', '/v1/orgs', {
        body: { name: 'ok', owner_address: owner() },
      })
      expect(ok.status).toBe(201)
      expect(ok.json.signup_credit.micros).toBe('2000000')
    }
    const [{ n: before }] = (await db.$client`select count(*)::int as n from orgs`) as unknown as [
      { n: number },
    ]
    const third = await api.call('POST', '/v1/orgs', {
      body: { name: 'farm', owner_address: owner() },
    })
    expect(third.status).toBe(429)
    expect(third.json).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: 'too many sign-ups from this address; try again in an hour',
      },
    })
    const [{ n: after }] = (await db.$client`select count(*)::int as n from orgs`) as unknown as [
      { n: number },
    ]
    expect(after).toBe(before)
    // Another client address (behind the trusted local proxy) still signs up.
    const other = await api.call('POST', '/v1/orgs', {
      body: { name: 'elsewhere', owner_address: owner() },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    })
    expect(other.status).toBe(201)
    await api.stop()
  })

  test('an owner address with a wrong checksum, or the zero address, is 400 and signs nothing up', async ({
    db,
  }) => {
    const api = await startApi(db)
    const [{ n: before }] = (await db.$client`select count(*)::int as n from orgs`) as unknown as [
      { n: number },
    ]
    for (const [address, message] of [
      [
        '0x90f79bf6EB2c4f870365E785982E1f101E93b906',
        'owner_address has a checksum that does not match: check it for a typo',
      ],
      [
        '0x0000000000000000000000000000000000000000',
        'owner_address is the zero address, which no wallet can sign for',
      ],
    ]) {
      const res = await api.call('POST', '/v1/orgs', {
        body: { name: 'typo', owner_address: address },
      })
      expect([address, res.status, res.json]).toEqual([
        address,
        400,
        { error: { code: 'VALIDATION_FAILED', message } },
      ])
    }
    const [{ n: after }] = (await db.$client`select count(*)::int as n from orgs`) as unknown as [
      { n: number },
    ]
    expect(after).toBe(before)
    // The checksummed form, all lower case and all upper case carry no checksum to get wrong.
    for (const address of [
      privateKeyToAccount(generatePrivateKey()).address,
      owner(),
      `0x${owner().slice(2).toUpperCase()}`,
    ]) {
      const res = await api.call('POST', '/v1/orgs', {
        body: { name: 'fine', owner_address: address },
      })
      expect([address, res.status]).toEqual([address, 201])
    }
    await api.stop()
  })

  test('a name that disguises itself (a bidi override, a control character) is 400 and changes nothing', async ({
    db,
  }) => {
    const api = await startApi(db)
    const count = async () =>
      ((await db.$client`select count(*)::int as n from orgs`) as unknown as [{ n: number }])[0].n
    const before = await count()
    // "invoice\u202Egnp.exe" shows as "invoiceexe.png"; a newline forges a second line in a mail.
    for (const name of [
      'invoice\u202Egnp.exe',
      'a\u2066b',
      'x\u200Fy',
      'acme\nPaid in full',
      'bell\u0007',
    ]) {
      const res = await api.call('POST', '/v1/orgs', { body: { name, owner_address: owner() } })
      expect([name, res.status, res.json.error?.code]).toEqual([name, 400, 'VALIDATION_FAILED'])
      expect(res.json.error.issues).toEqual([
        {
          path: ['name'],
          code: 'custom',
          message: 'contains a control or bidirectional formatting character (e.g. U+202E)',
        },
      ])
    }
    expect(await count()).toBe(before)
    // Other scripts, emoji and spaces around the name are fine (the spaces are trimmed).
    for (const [name, stored] of [
      ['  Ünïcødé 株式会社 🚀 ', 'Ünïcødé 株式会社 🚀'],
      ['שלום עולם', 'שלום עולם'],
    ]) {
      const res = await api.call('POST', '/v1/orgs', { body: { name, owner_address: owner() } })
      expect([res.status, res.json.org?.name]).toEqual([201, stored])
    }
    await api.stop()
  })

  test('session keys at /v1/session-keys: metered as mint_session_key, short-lived, scoped to the org', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Agents', owner_address: owner() } })
    ).json
    const minted = await api.call('POST', '/v1/session-keys', {
      key: org.api_key,
      body: { ttl_seconds: 60 },
    })
    expect(minted.status).toBe(201)
    expect(minted.json.session_key).toMatch(/^tg_sess_/)
    expect(minted.json.metered).toMatchObject({
      action: 'mint_session_key',
      price_micros: api.ctx.config.rateCard.prices.mint_session_key!.toString(),
    })
    const expires = new Date(minted.json.expires_at).getTime()
    expect(expires - Date.now()).toBeLessThanOrEqual(61_000)
    expect(expires - Date.now()).toBeGreaterThan(30_000)
    const who = await api.call('GET', '/v1/whoami', { key: minted.json.session_key })
    expect(who.json).toMatchObject({ org_id: org.org.id, role: 'member' })
    // Stored hashed only.
    const [{ n }] =
      (await db.$client`select count(*)::int as n from session_keys where key_hash = ${minted.json.session_key}`) as unknown as [
        { n: number },
      ]
    expect(n).toBe(0)
    // Expired: refused.
    await db.$client`update session_keys set expires_at = now() - interval '1 second' where org_id = ${org.org.id}`
    const expired = await api.call('GET', '/v1/whoami', { key: minted.json.session_key })
    expect(expired.status).toBe(401)
    expect(expired.json.error.code).toBe('UNAUTHORIZED')
    await api.stop()
  })

  test('the owner adds admins at /v1/orgs/:id/admins; admins get the controls, members and other orgs do not', async ({
    db,
  }) => {
    const api = await startApi(db)
    const wallet = privateKeyToAccount(generatePrivateKey())
    const adminWallet = privateKeyToAccount(generatePrivateKey())
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Admins', owner_address: wallet.address },
      })
    ).json
    const other = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Other', owner_address: owner() } })
    ).json
    const session = (await signInOwner(api, wallet)).json.token as string
    // A member key cannot add admins.
    const byMember = await api.call('POST', `/v1/orgs/${org.org.id}/admins`, {
      key: org.api_key,
      body: { address: adminWallet.address },
    })
    expect(byMember.status).toBe(403)
    expect(byMember.json.error.code).toBe('FORBIDDEN')
    // The owner cannot add admins to another org.
    const elsewhere = await api.call('POST', `/v1/orgs/${other.org.id}/admins`, {
      key: session,
      body: { address: adminWallet.address },
    })
    expect(elsewhere.status).toBe(404)
    const added = await api.call('POST', `/v1/orgs/${org.org.id}/admins`, {
      key: session,
      body: { address: adminWallet.address },
    })
    expect(added.status).toBe(201)
    expect(added.json.admin.address).toBe(adminWallet.address.toLowerCase())
    const listed = await api.call('GET', `/v1/orgs/${org.org.id}/admins`, { key: session })
    expect(listed.json.admins.map((a: { address: string }) => a.address)).toEqual([
      adminWallet.address.toLowerCase(),
    ])
    // The admin signs in: the controls work, adding admins does not (owner only).
    const admin = await signInOwner(api, adminWallet)
    expect(admin.json).toMatchObject({ org_id: org.org.id, role: 'admin' })
    const adminKey = admin.json.token as string
    expect((await api.call('GET', '/v1/keys', { key: adminKey })).status).toBe(200)
    expect((await api.call('POST', '/v1/billing/manage-link', { key: adminKey })).status).toBe(201)
    const adminAdds = await api.call('POST', `/v1/orgs/${org.org.id}/admins`, {
      key: adminKey,
      body: { address: owner() },
    })
    expect(adminAdds.status).toBe(403)
    // A message for another site is refused, even with a nonce of ours.
    const phishNonce = (await api.call('GET', '/v1/auth/nonce')).json.nonce
    const phished = siweMessage(wallet.address, phishNonce, 'tollgate-login.example')
    const refused = await api.call('POST', '/v1/auth/siwe', {
      body: { message: phished, signature: await wallet.signMessage({ message: phished }) },
    })
    expect(refused.status).toBe(401)
    expect(refused.json.error.code).toBe('UNAUTHORIZED')
    // The other org's key sees nothing of this org's billing or keys.
    const theirs = await api.call('GET', '/v1/billing', { key: other.api_key })
    expect(theirs.json.subscription_id).toBe(other.subscription_id)
    await api.stop()
  })
})
