import type { Secret } from '../config/secret.js'
import { formatUsd } from '../ledger/index.js'
import type { EventLinks, EventView } from './events.js'
import { unsubscribeToken } from './unsubscribe.js'

/** Escapes text for HTML mail bodies. */
export const esc = (s: string) =>
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

/** An event's time as an owner reads it: `2026-12-03 09:41 UTC` (the event id stays exact). */
const when = (at: string) => {
  const iso = new Date(at).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
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

export type Rendered = { subject: string; text: string; html: string; unsubscribeUrl: string }

/** A mail about one kind: one event, or a digest of several. Plain links, no tracking. */
export function renderMail(
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
    return { at: when(v.created_at), line: describeEvent(v), links, id: v.id }
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
    `You receive this because this address asked for the notice “${title}” from ${o.productName}.`,
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
<hr><p><small>You receive this because this address asked for the notice “${esc(title)}” from ${esc(o.productName)}.
<a href="${esc(unsubscribeUrl)}">Stop these notices</a> (no sign-in needed).</small></p>
</body></html>`
  return { subject, text, html, unsubscribeUrl }
}
