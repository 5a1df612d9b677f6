import nodemailer from 'nodemailer'
import { createSession } from '../../src/api/sessions.js'
import type { Db } from '../../src/db/client.js'
import { fanOut } from '../../src/notifications/deliver.js'
import { deliverEmails } from '../../src/notifications/deliverEmails.js'
import { type MailCatcher, startMailCatcher } from '../../src/notifications/mailCatcher.js'
import type { MailOptions } from '../../src/notifications/mailer.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { config } from '../ledger/helpers.js'

const base = 'https://tollgate.test'
const mailOptions = (catcher: MailCatcher): MailOptions => ({
  mailer: nodemailer.createTransport(catcher.url),
  from: 'Tollgate <notices@tollgate.test>',
  productName: 'Tollgate',
  key: config.notifications.key,
  links: { publicBaseUrl: base },
  retryBaseMs: 20,
})

/** One pass of the delivery worker's mail half: fan out, then mail what is due. */
async function drain(db: Db, o: MailOptions) {
  for (;;) {
    const f = await fanOut(db)
    const m = await deliverEmails(db, o)
    if (f === 0 && m === 0) return
  }
}

const linkIn = (text: string, path: string) => {
  const m = text.match(new RegExp(`${base}${path}\\?token=[A-Za-z0-9_.-]+`))
  if (!m) throw new Error(`no ${path} link in: ${text}`)
  return m[0].slice(base.length)
}

/** A signed-up org through the API, its owner's session, and the API key its agents use. */
async function signUp(api: Awaited<ReturnType<typeof startApi>>, db: Db, credit?: bigint) {
  const owner = `0x${'0'.repeat(38)}${Math.floor(Math.random() * 200 + 16).toString(16)}`
  const signup = await api.call('POST', '/v1/orgs', {
    body: { name: 'mail', owner_address: owner },
  })
  expect(signup.status).toBe(201)
  const orgId = signup.json.org.id as string
  if (credit !== undefined)
    await db.$client`update billing_accounts set voucher = ${credit.toString()}::int8,
      alert_voucher_low = ${(credit / 5n).toString()}::int8 where org_id = ${orgId}`
  const { token } = await createSession(db, {
    orgId,
    role: 'owner',
    address: owner,
    ttlSeconds: 600,
  })
  return {
    orgId,
    subscriptionId: signup.json.subscription_id as string,
    apiKey: signup.json.api_key as string,
    owner: token,
  }
}

const useUntilRefused = async (api: Awaited<ReturnType<typeof startApi>>, apiKey: string) => {
  for (let i = 0; i < 400; i++) {
    const r = await api.call('POST', '/v1/usage', { key: apiKey, body: { action: 'save_comment' } })
    if (r.status !== 201) return r
  }
  throw new Error('never refused')
}

describe('notice mail', () => {
  test('unverified: only the verification mail; verified: usage events with the re-up link, an hourly digest', async ({
    db,
  }) => {
    const catcher = await startMailCatcher()
    const api = await startApi(db)
    const o = mailOptions(catcher)
    try {
      const org = await signUp(api, db, 50_000n)
      const set = await api.call('POST', '/v1/notifications/email', {
        key: org.owner,
        headers: { 'idempotency-key': 'mail-1' },
        body: { address: 'Owner@Example.COM', kinds: ['credit.low', 'credit.exhausted'] },
      })
      expect(set.status).toBe(200)
      expect(set.json.email).toMatchObject({
        address: 'Owner@example.com',
        verified: false,
        kinds: ['credit.low', 'credit.exhausted'],
      })
      // An agent's key may not change where the owner's mail goes.
      const member = await api.call('GET', '/v1/notifications/email', { key: org.apiKey })
      expect(member.status).toBe(403)

      // Usage before verification: events happen, the unverified address gets none of them.
      await useUntilRefused(api, org.apiKey)
      await drain(db, o)
      expect(catcher.mails.map((m) => [m.to, m.subject])).toEqual([
        [['Owner@example.com'], 'Tollgate: confirm this address for notices'],
      ])
      const verify = linkIn(catcher.mails[0]!.text, '/notices/verify')
      expect(catcher.mails[0]!.html).toContain('/notices/verify?token=')
      const opened = await fetch(`${api.url}${verify}`)
      expect(opened.status).toBe(200)
      expect(await opened.text()).toContain('Address confirmed')
      // The link works once.
      expect((await fetch(`${api.url}${verify}`)).status).toBe(404)
      const got = await api.call('GET', '/v1/notifications/email', { key: org.owner })
      expect(got.json.email.verified).toBe(true)

      // Verified: new events are mailed, one mail per kind, each with the re-up link.
      await db.$client`update billing_accounts set voucher = 50000, alert_voucher_low = 10000
        where org_id = ${org.orgId}`
      await useUntilRefused(api, org.apiKey)
      await drain(db, o)
      const notices = catcher.mails.slice(1)
      expect(notices.map((m) => m.subject)).toEqual([
        'Tollgate: Your signup credit is running low',
        'Tollgate: Your signup credit is used up',
      ])
      for (const m of notices) {
        expect(m.to).toEqual(['Owner@example.com'])
        expect(m.text).toContain(`Manage or re-up: ${base}/s/${org.subscriptionId}`)
        expect(m.html).toContain(`href="${base}/s/${org.subscriptionId}"`)
        expect(m.headers['list-unsubscribe']).toContain(`${base}/notices/unsubscribe?token=`)
        // No tracking: no images, no links but ours.
        expect(m.html).not.toMatch(/<img/i)
        for (const href of m.html.matchAll(/href="([^"]+)"/g))
          expect(href[1]!.startsWith(`${base}/`)).toBe(true)
      }
      expect(notices[0]!.text).toContain('$0.01 of your signup credit is left.')
      // In words an owner reads: the notice's title, not its code; the time to the minute, in UTC.
      expect(notices[0]!.text).toContain(
        'You receive this because this address asked for the notice “Your signup credit is running low” from Tollgate.',
      )
      expect(notices[0]!.text).not.toContain('credit.low')
      expect(notices[0]!.text).toMatch(
        /\n\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}\$0\.01 of your signup credit is left\./,
      )

      // A storm within the hour: nothing more now, then one digest of all of it.
      for (let round = 0; round < 5; round++) {
        await db.$client`update billing_accounts set voucher = 50000, alert_voucher_low = 10000
          where org_id = ${org.orgId}`
        await useUntilRefused(api, org.apiKey)
      }
      await drain(db, o)
      expect(catcher.mails).toHaveLength(3)
      await db.$client`update email_sends set sent_at = sent_at - interval '1 hour'
        where org_id = ${org.orgId}`
      await db.$client`update email_pending set next_attempt_at = clock_timestamp()
        where org_id = ${org.orgId} and sent_at is null`
      await drain(db, o)
      const digests = catcher.mails.slice(3)
      expect(digests.map((m) => m.subject).sort()).toEqual([
        'Tollgate: Your signup credit is running low (5 notices)',
        'Tollgate: Your signup credit is used up (5 notices)',
      ])
      // Every event mailed exactly once.
      const [sent] = await db.$client<{ n: number; distinct: number }[]>`
        select count(*)::int as n, count(distinct e)::int as distinct
        from email_sends, unnest(event_ids) e where org_id = ${org.orgId}`
      expect(sent).toEqual({ n: 12, distinct: 12 })
    } finally {
      await api.stop()
      await catcher.close()
    }
  })

  test('an unsubscribe link needs no sign-in and acts only on its own address and kind', async ({
    db,
  }) => {
    const catcher = await startMailCatcher()
    const api = await startApi(db)
    const o = mailOptions(catcher)
    try {
      const org = await signUp(api, db, 50_000n)
      const other = await signUp(api, db, 50_000n)
      for (const [who, address] of [
        [org, 'a@example.com'],
        [other, 'b@example.com'],
      ] as const) {
        const set = await api.call('POST', '/v1/notifications/email', {
          key: who.owner,
          headers: { 'idempotency-key': `set-${address.slice(0, 1)}` },
          body: { address, kinds: ['credit.low', 'credit.exhausted'] },
        })
        expect(set.status).toBe(200)
      }
      await drain(db, o)
      for (const m of catcher.mails) await fetch(`${api.url}${linkIn(m.text, '/notices/verify')}`)
      for (const who of [org, other]) await useUntilRefused(api, who.apiKey)
      await drain(db, o)
      const low = catcher.mails.find(
        (m) => m.to[0] === 'a@example.com' && m.subject.includes('running low'),
      )!
      const unsubscribe = linkIn(low.text, '/notices/unsubscribe')
      // GET only asks (a link scanner changes nothing); the button posts.
      const asked = await fetch(`${api.url}${unsubscribe}`)
      // The kind in words, as the manage page shows it, never its id.
      const question = await asked.text()
      expect(question).toContain(
        'Stop the notice “Your signup credit is running low (a fifth left)” to a@example.com?',
      )
      expect(question).not.toContain('credit.low')
      const kindsOf = async (orgId: string) =>
        (
          await db.$client<{ kinds: string[] }[]>`
            select kinds from email_settings where org_id = ${orgId}`
        )[0]!.kinds
      expect(await kindsOf(org.orgId)).toEqual(['credit.low', 'credit.exhausted'])
      const done = await fetch(`${api.url}${unsubscribe}`, { method: 'POST' })
      expect(done.status).toBe(200)
      expect(await done.text()).toContain(
        'a@example.com receives no more “Your signup credit is running low (a fifth left)” notices.',
      )
      expect(await kindsOf(org.orgId)).toEqual(['credit.exhausted'])
      expect(await kindsOf(other.orgId)).toEqual(['credit.low', 'credit.exhausted'])
      // A forged or altered link is refused.
      const [payload, mac] = unsubscribe.split('token=')[1]!.split('.')
      const forged = Buffer.from(
        JSON.stringify([org.orgId, 'a@example.com', 'credit.exhausted']),
      ).toString('base64url')
      // (altered: its first character replaced by another, never by itself)
      const altered = `${mac![0] === 'x' ? 'y' : 'x'}${mac!.slice(1)}`
      for (const token of [`${forged}.${mac}`, `${payload}.${altered}`]) {
        const r = await fetch(`${api.url}/notices/unsubscribe?token=${token}`, { method: 'POST' })
        expect(r.status).toBe(404)
      }
      expect(await kindsOf(org.orgId)).toEqual(['credit.exhausted'])
      // The org moves to another address: the old address's link changes nothing.
      const exhausted = catcher.mails.find(
        (m) => m.to[0] === 'a@example.com' && m.subject.includes('used up'),
      )!
      await api.call('POST', '/v1/notifications/email', {
        key: org.owner,
        headers: { 'idempotency-key': 'move' },
        body: { address: 'c@example.com', kinds: ['credit.exhausted'] },
      })
      await fetch(`${api.url}${linkIn(exhausted.text, '/notices/unsubscribe')}`, { method: 'POST' })
      expect(await kindsOf(org.orgId)).toEqual(['credit.exhausted'])
      // The one-click form (RFC 8058) posts the token in the body.
      const before = catcher.mails.length
      await drain(db, o)
      const fresh = catcher.mails.slice(before)
      expect(fresh.map((m) => [m.to, m.subject])).toEqual([
        [['c@example.com'], 'Tollgate: confirm this address for notices'],
      ])
    } finally {
      await api.stop()
      await catcher.close()
    }
  })

  test('the SMTP server refusing, then accepting: the mail goes out once, later', async ({
    db,
  }) => {
    const catcher = await startMailCatcher()
    const api = await startApi(db)
    const o = mailOptions(catcher)
    try {
      const org = await signUp(api, db, 50_000n)
      catcher.refusing = true
      await api.call('POST', '/v1/notifications/email', {
        key: org.owner,
        headers: { 'idempotency-key': 'r-1' },
        body: { address: 'r@example.com', kinds: ['credit.exhausted'] },
      })
      await drain(db, o)
      expect(catcher.mails).toHaveLength(0)
      catcher.refusing = false
      await new Promise((r) => setTimeout(r, 100))
      await drain(db, o)
      expect(catcher.mails).toHaveLength(1)
      await fetch(`${api.url}${linkIn(catcher.mails[0]!.text, '/notices/verify')}`)

      await useUntilRefused(api, org.apiKey)
      catcher.refusing = true
      await drain(db, o)
      const [waiting] = await db.$client<{ attempts: number }[]>`
        select attempts from email_pending where org_id = ${org.orgId} and sent_at is null`
      expect(waiting!.attempts).toBeGreaterThanOrEqual(1)
      catcher.refusing = false
      await new Promise((r) => setTimeout(r, 150))
      await drain(db, o)
      expect(catcher.mails.map((m) => m.subject)).toEqual([
        'Tollgate: confirm this address for notices',
        'Tollgate: Your signup credit is used up',
      ])
    } finally {
      await api.stop()
      await catcher.close()
    }
  })
})
