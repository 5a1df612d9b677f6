import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import nodemailer from 'nodemailer'
import type { Secret } from '../config/secret.js'
import { NotFoundError, ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { formatUsd } from '../ledger/index.js'
import { type EventLinks, type EventRow, type EventView, eventTypes, viewEvent } from './events.js'
import { seal, unseal } from './seal.js'

/** What sends a mail: a nodemailer transport (SMTP), or anything that answers like one. */
export type Mailer = {
  sendMail(m: {
    from: string
    to: string
    subject: string
    text: string
    html: string
    headers?: Record<string, string>
  }): Promise<{ messageId: string }>
}

/** A mailer over SMTP (`smtp://…`, `smtps://…`): one pooled connection set per process. */
export const smtpMailer = (smtpUrl: Secret): Mailer => nodemailer.createTransport(smtpUrl.reveal())

export type MailOptions = {
  mailer: Mailer
  from: string
  productName: string
  key: Secret
  links: EventLinks
  /** A mail the server refused is tried again after this (doubling, at most an hour). */
  retryBaseMs?: number | undefined
}

/** Event kinds an owner may receive by mail (operator and webhook notices are not mailed). */
export const mailableKinds = eventTypes.filter((t) => t !== 'operator.eth_low')
const VERIFY_TTL_MS = 24 * 3600_000
const HOUR_MS = 3600_000

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex')
export const addressRe =
  /^[^\s@<>()",;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
/** An address as stored: trimmed, its domain lower-cased (the local part is the mailbox's). */
function normalizeAddress(address: string): string {
  const a = address.trim()
  if (a.length > 254 || !addressRe.test(a))
    throw new ValidationError('not an email address', { field: 'address' })
  const at = a.lastIndexOf('@')
  return `${a.slice(0, at)}@${a.slice(at + 1).toLowerCase()}`
}

export type EmailSettingsView = {
  address: string | null
  verified: boolean
  kinds: string[]
  updated_at: string | null
}

/** The org's mail settings (no address yet: nothing set). */
export async function getEmailSettings(db: Db, orgId: string): Promise<EmailSettingsView> {
  const [s] = await db.$client<
    { address: string; verified_at: Date | null; kinds: string[]; updated_at: Date }[]
  >`select address, verified_at, kinds, updated_at from email_settings where org_id = ${orgId}`
  if (!s) return { address: null, verified: false, kinds: [], updated_at: null }
  return {
    address: s.address,
    verified: s.verified_at !== null,
    kinds: s.kinds,
    updated_at: rfc3339(s.updated_at),
  }
}

/**
 * Sets the owner's address and the kinds mailed. A new address is unverified until its one-time
 * link is opened: the verification mail is queued in the same transaction (the worker sends it,
 * retrying while the server refuses), and nothing else is mailed to it before. The same address
 * keeps its verification; only the kinds change.
 */
export async function setEmailSettings(
  db: Db,
  key: Secret,
  p: {
    orgId: string
    address: string
    kinds?: readonly string[] | undefined
    /** Trust the address without a link: only `tollgate dev`'s demo owner (a local catcher). */
    verified?: boolean | undefined
  },
): Promise<EmailSettingsView> {
  const address = normalizeAddress(p.address)
  const token = randomBytes(32).toString('base64url')
  const kinds = p.kinds ?? mailableKinds
  await db.$client.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`email:${p.orgId}`}, 0))`
    const [current] = await tx<{ address: string; verified_at: Date | null }[]>`
      select address, verified_at from email_settings where org_id = ${p.orgId} for update`
    if (current && current.address === address) {
      await tx`update email_settings set kinds = ${kinds as string[]}, updated_at = clock_timestamp()
        where org_id = ${p.orgId}`
      if (current.verified_at !== null) return
    }
    await tx`
      insert into email_settings (org_id, address, kinds, verify_token_hash, verify_expires_at,
        verify_mail_sealed, verify_mail_attempts, verify_mail_next_at)
      values (${p.orgId}, ${address}, ${kinds as string[]}, ${sha256(token)},
        clock_timestamp() + make_interval(secs => ${VERIFY_TTL_MS / 1000}),
        ${seal(key, token)}, 0, clock_timestamp())
      on conflict (org_id) do update set address = excluded.address, kinds = excluded.kinds,
        verified_at = null, verify_token_hash = excluded.verify_token_hash,
        verify_expires_at = excluded.verify_expires_at,
        verify_mail_sealed = excluded.verify_mail_sealed, verify_mail_attempts = 0,
        verify_mail_next_at = excluded.verify_mail_next_at, updated_at = clock_timestamp()`
    if (p.verified)
      await tx`update email_settings set verified_at = clock_timestamp(), verify_token_hash = null,
        verify_expires_at = null, verify_mail_sealed = null where org_id = ${p.orgId}`
  })
  return await getEmailSettings(db, p.orgId)
}

/** Stops all mail to the org: the address and its kinds are forgotten. */
export async function removeEmailSettings(db: Db, orgId: string): Promise<void> {
  await db.$client.begin(async (tx) => {
    await tx`delete from email_settings where org_id = ${orgId}`
    await tx`delete from email_pending where org_id = ${orgId} and sent_at is null`
  })
}

/** Opens a verification link: the address it was sent to is verified (once; it expires). */
export async function verifyEmail(db: Db, token: string): Promise<{ address: string }> {
  const [row] = await db.$client<{ address: string }[]>`
    update email_settings set verified_at = clock_timestamp(), verify_token_hash = null,
      verify_expires_at = null, verify_mail_sealed = null, updated_at = clock_timestamp()
    where verify_token_hash = ${sha256(token)} and verify_expires_at > clock_timestamp()
    returning address`
  if (!row) throw new NotFoundError('this verification link is used, expired or unknown')
  return row
}

// Unsubscribe links: `<payload>.<mac>`, the payload naming the org, the address and the kind.
// They need no sign-in and act only on that address and kind.
const unsubscribeKey = (key: Secret) =>
  createHash('sha256').update('tollgate:unsubscribe:').update(key.reveal()).digest()
const macOf = (key: Secret, payload: string) =>
  createHmac('sha256', unsubscribeKey(key)).update(payload).digest('base64url')

function unsubscribeToken(key: Secret, orgId: string, address: string, kind: string) {
  const payload = Buffer.from(JSON.stringify([orgId, address, kind])).toString('base64url')
  return `${payload}.${macOf(key, payload)}`
}

/** What an unsubscribe token names, if it is one we signed. */
export function readUnsubscribeToken(
  key: Secret,
  token: string,
): { orgId: string; address: string; kind: string } | null {
  const [payload, mac] = token.split('.')
  if (!payload || !mac || token.split('.').length !== 2) return null
  const want = Buffer.from(macOf(key, payload))
  const got = Buffer.from(mac)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null
  const [orgId, address, kind] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  return { orgId, address, kind }
}

/**
 * Removes the token's kind from the mails of the token's address. A link for another address
 * (the org changed it since) or another kind changes nothing else. Answers whether it did.
 */
export async function unsubscribe(db: Db, key: Secret, token: string) {
  const t = readUnsubscribeToken(key, token)
  if (!t) throw new NotFoundError('this unsubscribe link is not one of ours')
  const [row] = await db.$client<{ org_id: string }[]>`
    update email_settings set kinds = array_remove(kinds, ${t.kind}), updated_at = clock_timestamp()
    where org_id = ${t.orgId} and address = ${t.address} and ${t.kind} = any(kinds)
    returning org_id`
  return { address: t.address, kind: t.kind, changed: row !== undefined }
}

// ---- rendering ----

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )
const usd = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? formatUsd(BigInt(v)) : '?')

const titles: Record<string, string> = {
  'allowance.low': 'Your allowance is running low',
  'allowance.exhausted': 'Your allowance is used up: calls are refused',
  'budget.reached': 'Your monthly limit is reached',
  'budget.reset': 'Your spending limit has room again',
  'credit.low': 'Your signup credit is running low',
  'credit.exhausted': 'Your signup credit is used up',
  'subscription.activated': 'Your subscription is active',
  'subscription.lapsed': 'Your subscription lapsed: calls are refused',
  'subscription.recovered': 'Your subscription is active again',
  'subscription.canceled': 'Your subscription is canceled',
  'charge.collected': 'A charge was collected',
  'charge.failed': 'A charge could not be collected',
  'permit.expiring': 'Your authorization expires soon',
  'webhook.disabled': 'A webhook endpoint was disabled',
}

/** One event in a sentence or two: what happened, in words and dollars. */
function describeEvent(v: EventView): string {
  const d = v.data
  switch (v.type) {
    case 'allowance.low':
      return `${d.percent}% of your ${usd(d.cap_micros)} allowance is used; ${usd(d.remaining_micros)} is left.`
    case 'allowance.exhausted':
      return 'The allowance you authorized is used up. Calls are refused until you authorize more.'
    case 'budget.reached':
      return `Spending reached your monthly limit of ${usd(d.limit_micros)} (${usd(d.spent_micros)} spent). Calls are refused until it resets or you raise it.`
    case 'budget.reset':
      return d.cause === 'override_expired'
        ? `The temporary limit ended: your ${d.period} limit of ${usd(d.limit_micros)} applies again and leaves room.`
        : `A new ${d.period ?? 'month'} began: your limit of ${usd(d.limit_micros)} is available again.`
    case 'credit.low':
      return `${usd(d.remaining_micros)} of your signup credit is left.`
    case 'credit.exhausted':
      return 'Your signup credit is used up; usage now draws on your allowance.'
    case 'subscription.activated':
      return 'Your authorization is on-chain; your agents can call.'
    case 'subscription.lapsed':
      return `The subscription lapsed: ${d.reason_text ?? 'no reason was recorded'}.`
    case 'subscription.recovered':
      return 'The subscription is active again; calls go through.'
    case 'subscription.canceled':
      return `The subscription was canceled${d.reason_text ? `: ${d.reason_text}` : ''}.`
    case 'charge.collected':
      return `${usd(d.amount_micros)} was collected${d.tx_hash ? ` in transaction ${d.tx_hash}` : ''}.`
    case 'charge.failed':
      return `A charge of ${usd(d.amount_micros)} failed: ${d.reason_text ?? 'no reason was recorded'}.`
    case 'permit.expiring':
      return `The authorization expires on ${d.deadline}. Sign a new one to keep calls going.`
    case 'webhook.disabled':
      return `The webhook endpoint ${d.url} was disabled after failing deliveries (${d.last_error}).`
    default:
      return v.type
  }
}

type Rendered = { subject: string; text: string; html: string; unsubscribeUrl: string }

/** A mail about one kind: one event, or a digest of several. Plain links, no tracking. */
function renderMail(
  o: { productName: string; key: Secret; links: EventLinks },
  to: { orgId: string; address: string; kind: string },
  views: EventView[],
): Rendered {
  const title = titles[to.kind] ?? to.kind
  const subject =
    views.length === 1
      ? `${o.productName}: ${title}`
      : `${o.productName}: ${title} (${views.length} notices)`
  const unsubscribeUrl = `${o.links.publicBaseUrl}/notices/unsubscribe?token=${unsubscribeToken(o.key, to.orgId, to.address, to.kind)}`
  const items = views.map((v) => {
    const links: [string, string][] = []
    if (typeof v.data.manage_url === 'string') links.push(['Manage or re-up', v.data.manage_url])
    if (typeof v.data.explorer_url === 'string')
      links.push(['The transaction', v.data.explorer_url])
    return { at: v.created_at, line: describeEvent(v), links, id: v.id }
  })
  const text = [
    title,
    '',
    ...items.flatMap((i) => [
      `${i.at}  ${i.line}`,
      ...i.links.map(([label, url]) => `  ${label}: ${url}`),
      `  (event ${i.id})`,
      '',
    ]),
    '--',
    `You receive this because this address chose "${to.kind}" notices from ${o.productName}.`,
    `Stop these notices (no sign-in needed): ${unsubscribeUrl}`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif;max-width:40em">
<h2>${esc(title)}</h2>
${items
  .map(
    (i) =>
      `<p><small>${esc(i.at)}</small><br>${esc(i.line)}${i.links
        .map(([label, url]) => `<br><a href="${esc(url)}">${esc(label)}</a>`)
        .join('')}</p>`,
  )
  .join('\n')}
<hr><p><small>You receive this because this address chose “${esc(to.kind)}” notices from ${esc(o.productName)}.
<a href="${esc(unsubscribeUrl)}">Stop these notices</a> (no sign-in needed).</small></p>
</body></html>`
  return { subject, text, html, unsubscribeUrl }
}

// ---- sending ----

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
