import type { Db } from '../db/client.js'
import { type EventRow, viewEvent } from './events.js'
import type { MailOptions } from './mailer.js'
import { esc, renderMail } from './renderMail.js'
import { unseal } from './seal.js'

const HOUR_MS = 3600_000

const backoff = (base: number, attempts: number) =>
  Math.min(base * 2 ** Math.min(attempts, 20), HOUR_MS)

/** Sends the verification mails queued by `setEmailSettings`. Returns how many went out. */
async function sendVerifications(db: Db, o: MailOptions): Promise<number> {
  let sent = 0
  for (;;) {
    const done = await db.$client.begin(async (tx) => {
      const [s] = await tx<
        {
          org_id: string
          address: string
          verify_mail_sealed: string
          verify_mail_attempts: number
        }[]
      >`
        select org_id, address, verify_mail_sealed, verify_mail_attempts from email_settings
        where verify_mail_sealed is not null and verify_mail_next_at <= clock_timestamp()
        order by verify_mail_next_at limit 1 for update skip locked`
      if (!s) return false
      const url = `${o.links.publicBaseUrl}/notices/verify?token=${unseal(o.key, s.verify_mail_sealed)}`
      try {
        await o.mailer.sendMail({
          from: o.from,
          to: s.address,
          subject: `${o.productName}: confirm this address for notices`,
          text: `Someone (we hope you) asked ${o.productName} to send billing notices to this address.\n\nConfirm it (the link works once, for 24 hours):\n${url}\n\nIf it was not you, ignore this mail: nothing else will be sent here.`,
          html: `<!doctype html><html><body style="font-family:sans-serif;max-width:40em"><p>Someone (we hope you) asked ${esc(o.productName)} to send billing notices to this address.</p><p><a href="${esc(url)}">Confirm this address</a> (the link works once, for 24 hours).</p><p><small>If it was not you, ignore this mail: nothing else will be sent here.</small></p></body></html>`,
        })
        await tx`update email_settings set verify_mail_sealed = null where org_id = ${s.org_id}`
        sent++
      } catch {
        await tx`update email_settings set verify_mail_attempts = verify_mail_attempts + 1,
          verify_mail_next_at = clock_timestamp() + make_interval(secs => ${backoff(o.retryBaseMs ?? 10_000, s.verify_mail_attempts) / 1000})
          where org_id = ${s.org_id}`
      }
      return true
    })
    if (!done) return sent
  }
}

/**
 * Sends the pending notice mails: per org and kind, everything waiting goes in one mail (a
 * digest when several), and no org gets more than one mail per kind per hour — what comes
 * within the hour waits for the next. Only the verified address receives them, and only the
 * kinds it still chooses. A mail the server refuses is tried again with backoff. Per org and
 * kind one worker at a time (an advisory lock), so two workers never split a digest.
 */
export async function deliverEmails(db: Db, o: MailOptions): Promise<number> {
  let sent = await sendVerifications(db, o)
  const groups = await db.$client<{ org_id: string; kind: string }[]>`
    select p.org_id, p.kind from email_pending p join events e on e.id = p.event_id
    where p.sent_at is null and p.next_attempt_at <= clock_timestamp()
    group by p.org_id, p.kind order by min(e.seq) limit 200`
  for (const g of groups) {
    sent += await db.$client.begin(async (tx) => {
      const [lock] = await tx<{ ok: boolean }[]>`
        select pg_try_advisory_xact_lock(hashtextextended(${`mail:${g.org_id}:${g.kind}`}, 0)) as ok`
      if (!lock?.ok) return 0
      const [s] = await tx<{ address: string; verified: boolean; wants: boolean }[]>`
        select address, verified_at is not null as verified, ${g.kind} = any(kinds) as wants
        from email_settings where org_id = ${g.org_id}`
      // Unsubscribed, unverified or another address since: these are never mailed.
      await tx`delete from email_pending where org_id = ${g.org_id} and kind = ${g.kind}
        and sent_at is null and (${!s?.verified || !s.wants} or address <> ${s?.address ?? ''})`
      if (!s?.verified || !s.wants) return 0
      // Within the hour of the last mail of this kind: everything waits for the hour's end.
      const waited = await tx`
        update email_pending set next_attempt_at = l.next
        from (select max(sent_at) + interval '1 hour' as next from email_sends
          where org_id = ${g.org_id} and kind = ${g.kind}) l
        where l.next > clock_timestamp() and org_id = ${g.org_id} and kind = ${g.kind}
          and sent_at is null`
      if (waited.count > 0) return 0
      const rows = await tx<(EventRow & { attempts: number })[]>`
        select e.id, e.seq, e.org_id, e.subscription_id, e.type, e.data, e.created_at, p.attempts
        from email_pending p join events e on e.id = p.event_id
        where p.org_id = ${g.org_id} and p.kind = ${g.kind} and p.sent_at is null
        order by e.seq limit 100`
      if (rows.length === 0) return 0
      const ids = rows.map((r) => r.id)
      const mail = renderMail(
        o,
        { orgId: g.org_id, address: s.address, kind: g.kind },
        rows.map((r) => viewEvent(r, o.links)),
      )
      try {
        const info = await o.mailer.sendMail({
          from: o.from,
          to: s.address,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          headers: {
            'List-Unsubscribe': `<${mail.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
        })
        await tx`insert into email_sends (org_id, kind, address, event_ids, message_id)
          values (${g.org_id}, ${g.kind}, ${s.address}, ${ids}, ${info.messageId})`
        await tx`update email_pending set sent_at = clock_timestamp() where event_id = any(${ids}::text[])`
        return 1
      } catch {
        const attempts = Math.max(...rows.map((r) => r.attempts))
        await tx`update email_pending set attempts = attempts + 1,
          next_attempt_at = clock_timestamp() + make_interval(secs => ${backoff(o.retryBaseMs ?? 10_000, attempts) / 1000})
          where event_id = any(${ids}::text[])`
        return 0
      }
    })
  }
  return sent
}
