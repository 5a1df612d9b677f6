// The dashboard's Webhooks card: the org's endpoints with their last delivery, adding one (its
// secret shown once), rotating, disabling, deleting, and each endpoint's delivery log with a
// Redeliver button. Everything goes through /v1/webhooks/endpoints (docs/notifications.md).

import type { eventTypes } from '../../notifications/events.js'
import { $, dateTime, plainError } from './ui.js'

/** The dashboard's API call: the method, the path under /v1, a JSON body; the answer's JSON. */
export type Send = <T>(method: string, path: string, body?: unknown) => Promise<T>
type Say = (text: string, error?: boolean) => void

type Endpoint = {
  id: string
  url: string
  event_types: string[]
  enabled: boolean
  disabled_reason: string | null
  previous_secret_expires_at: string | null
}
type Delivery = {
  event_id: string
  type: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: string | null
  last_status_code: number | null
  last_error: string | null
  delivered_at: string | null
  created_at: string
}

/** Each event kind in words, in the order the API lists them. */
const kindWords: Record<(typeof eventTypes)[number], string> = {
  'allowance.low': 'The allowance is running low (80% and 95% used)',
  'allowance.exhausted': 'The allowance ran out (paid calls stop)',
  'budget.reached': 'A monthly limit or spend budget was reached',
  'budget.reset': 'A reached limit or budget has room again',
  'credit.low': 'The signup credit is running low',
  'credit.exhausted': 'The signup credit is used up',
  'subscription.activated': 'The subscription became active',
  'subscription.lapsed': 'The subscription lapsed (with the reason)',
  'subscription.recovered': 'The subscription is active again',
  'subscription.canceled': 'The subscription was canceled',
  'charge.collected': 'A charge was collected on-chain',
  'charge.failed': 'A charge failed (with the reason)',
  'permit.expiring': 'The authorization expires within 7 days',
  'webhook.disabled': 'An endpoint was disabled after failing for 3 days',
  'operator.eth_low': "The operator wallet's ETH is low (operators only)",
}
const kinds = Object.keys(kindWords) as (keyof typeof kindWords)[]

const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag)
  if (text !== undefined) e.textContent = text
  if (className) e.className = className
  return e
}
const when = (iso: string) => dateTime(new Date(iso))

/** A delivery's outcome in a sentence. */
function outcome(d: Delivery): string {
  const answer = d.last_error ?? (d.last_status_code === null ? null : `HTTP ${d.last_status_code}`)
  if (d.status === 'delivered') return `Delivered (HTTP ${d.last_status_code})`
  if (d.status === 'failed') return `Gave up: ${answer ?? 'no answer'}`
  if (d.attempts === 0) return 'Waiting to be sent'
  return `Failing: ${answer ?? 'no answer'}; next try ${d.next_attempt_at ? when(d.next_attempt_at) : 'soon'}`
}

/** Why a URL cannot be an endpoint, in a sentence; null when it can. */
function urlProblem(value: string): string | null {
  if (value === '') return 'Enter the URL your server receives webhooks at.'
  let u: URL
  try {
    u = new URL(value)
  } catch {
    return `“${value}” is not a web address: it should look like https://example.com/webhooks.`
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return 'The address must start with https:// (http:// only on a local test server).'
  return null
}

export type WebhooksParameters = { send: Send; say: Say }

/** The Webhooks card: wires its form once; `load` fills it for the signed-in org. */
export function webhooksCard({ send, say }: WebhooksParameters) {
  const showSecret = (secret: string, words: string) => {
    $('#wh-secret-words').textContent = words
    $('#wh-secret-value').textContent = secret
    $('#wh-secret-copy').textContent = 'Copy secret'
    const box = $('#wh-secret')
    box.hidden = false
    box.focus()
  }
  const act = (fn: () => Promise<void>) => async () => {
    try {
      await fn()
    } catch (e) {
      say(plainError(e), true)
    }
  }

  function renderEndpoint(e: Endpoint, deliveries: Delivery[]): HTMLElement {
    const card = el('article', undefined, 'endpoint')
    card.dataset.id = e.id
    const title = el('h3')
    title.id = `wh-${e.id}`
    title.append(el('code', e.url))
    card.setAttribute('aria-labelledby', title.id)
    const state = el('p', undefined, 'endpoint-state')
    const badge = el('span', e.enabled ? 'Enabled' : 'Disabled', 'badge')
    badge.dataset.state = e.enabled ? 'active' : 'lapsed'
    state.append(badge)
    if (!e.enabled)
      state.append(
        e.disabled_reason === 'disabled by the org' || e.disabled_reason === null
          ? ' — turned off by an owner or admin: nothing is sent to it until it is enabled again.'
          : ` — ${e.disabled_reason}. Fix the receiver, then enable it: what waited is sent at once.`,
      )
    const events = el(
      'p',
      e.event_types.length === 0
        ? 'Events: every event.'
        : `Events: ${e.event_types.map((t) => kindWords[t as keyof typeof kindWords] ?? t).join('; ')}.`,
    )
    const last = deliveries[0]
    const lastLine = el(
      'p',
      last
        ? `Last delivery (${when(last.delivered_at ?? last.created_at)}): ${outcome(last)}.`
        : 'Last delivery: none yet.',
      'last-delivery',
    )
    card.append(title, state, events, lastLine)
    const overlap = e.previous_secret_expires_at
    if (overlap && new Date(overlap) > new Date())
      card.append(el('p', `The previous secret also signs until ${when(overlap)}.`))

    const buttons = el('p', undefined, 'actions')
    const button = (text: string, label: string, fn: () => Promise<void>, cls?: string) => {
      const b = el('button', text, cls)
      b.type = 'button'
      b.setAttribute('aria-label', `${label} ${e.url}`)
      b.addEventListener('click', act(fn))
      buttons.append(b, ' ')
      return b
    }
    button('Rotate secret', 'Rotate the secret of', async () => {
      const r = await send<{ endpoint: Endpoint; secret: string }>(
        'POST',
        `/webhooks/endpoints/${e.id}/rotate-secret`,
        {},
      )
      await load()
      const until = r.endpoint.previous_secret_expires_at
      showSecret(
        r.secret,
        `The new secret for ${e.url}, shown only now. The old secret keeps signing beside it${until ? ` until ${when(until)}` : ''}, so switch your receiver to the new one before then.`,
      )
      say('Secret rotated.')
    })
    button(e.enabled ? 'Disable' : 'Enable', e.enabled ? 'Disable' : 'Enable', async () => {
      await send('PATCH', `/webhooks/endpoints/${e.id}`, { enabled: !e.enabled })
      await load()
      say(
        e.enabled
          ? `Disabled ${e.url}: nothing is sent to it until you enable it again.`
          : `Enabled ${e.url}: what waited is sent now.`,
      )
    })
    button(
      'Delete',
      'Delete',
      async () => {
        if (!confirm(`Delete the endpoint ${e.url}? Nothing more is sent to it.`)) return
        await send('DELETE', `/webhooks/endpoints/${e.id}`)
        await load()
        say(`Deleted ${e.url}.`)
      },
      'danger',
    )
    card.append(buttons)

    const table = el('table', undefined, 'stacked')
    const caption = el('caption', 'Delivery log')
    const head = el('thead')
    const hr = el('tr')
    const heads = ['Event', 'Type', 'Attempts', 'Last result', 'Time', 'Send again']
    for (const h of heads) hr.append(Object.assign(el('th', h), { scope: 'col' }))
    head.append(hr)
    const body = el('tbody', undefined, 'deliveries')
    for (const d of deliveries) {
      const tr = el('tr')
      tr.dataset.event = d.event_id
      const redo = el('button', 'Redeliver')
      redo.type = 'button'
      redo.setAttribute('aria-label', `Redeliver ${d.event_id}`)
      redo.addEventListener(
        'click',
        act(async () => {
          await send('POST', `/webhooks/endpoints/${e.id}/redeliver`, { event_id: d.event_id })
          await load()
          say(`Sending ${d.event_id} again, with the same webhook-id.`)
        }),
      )
      const cells: (string | Node)[] = [
        el('code', d.event_id, 'id'),
        d.type,
        String(d.attempts),
        outcome(d),
        when(d.delivered_at ?? d.created_at),
        redo,
      ]
      for (const [i, c] of cells.entries()) {
        const td = el('td')
        // On a narrow screen each row stacks, its cells labelled by their column.
        td.dataset.label = heads[i]!
        td.append(c)
        tr.append(td)
      }
      body.append(tr)
    }
    if (deliveries.length === 0) {
      const tr = el('tr')
      const td = el('td', 'Nothing sent to this endpoint yet.', 'empty')
      td.colSpan = 6
      tr.append(td)
      body.append(tr)
    }
    table.append(caption, head, body)
    const scroll = el('div', undefined, 'scroll')
    scroll.tabIndex = 0
    scroll.setAttribute('role', 'region')
    scroll.setAttribute('aria-label', `Delivery log of ${e.url}`)
    scroll.append(table)
    card.append(scroll)
    return card
  }

  async function load() {
    const { endpoints } = await send<{ endpoints: Endpoint[] }>('GET', '/webhooks/endpoints')
    const logs = await Promise.all(
      endpoints.map((e) =>
        send<{ deliveries: Delivery[] }>('GET', `/webhooks/endpoints/${e.id}/deliveries`),
      ),
    )
    const list = $('#wh-list')
    list.replaceChildren(
      ...(endpoints.length === 0
        ? [el('p', 'No endpoints yet: add one below to receive events.', 'muted')]
        : endpoints.map((e, i) => renderEndpoint(e, logs[i]!.deliveries))),
    )
    $('#webhooks').hidden = false
  }

  $('#wh-kinds').replaceChildren(
    ...kinds.map((kind) => {
      const label = el('label')
      const box = el('input')
      box.type = 'checkbox'
      box.name = 'kind'
      box.value = kind
      label.append(box, ` ${kindWords[kind]}`)
      return label
    }),
  )
  $('#wh-add').addEventListener('submit', (ev) => {
    ev.preventDefault()
    void act(async () => {
      const input = $<HTMLInputElement>('#wh-url')
      const url = input.value.trim()
      const problem = urlProblem(url)
      $('#wh-url-error').textContent = problem ?? ''
      input.setAttribute('aria-invalid', String(problem !== null))
      if (problem) {
        input.focus()
        return
      }
      const boxes = document.querySelectorAll<HTMLInputElement>('#wh-kinds input:checked')
      const chosen = Array.from(boxes, (b) => b.value)
      const made = await send<{ endpoint: Endpoint; secret: string }>(
        'POST',
        '/webhooks/endpoints',
        { url, event_types: chosen },
      ).catch((e: unknown) => {
        $('#wh-url-error').textContent = plainError(e)
        input.setAttribute('aria-invalid', 'true')
        throw e
      })
      input.value = ''
      for (const b of Array.from(boxes)) b.checked = false
      await load()
      showSecret(
        made.secret,
        `The signing secret for ${made.endpoint.url}. It is shown only now: copy it into your receiver's settings.`,
      )
      say(`Added ${made.endpoint.url}.`)
    })()
  })
  $('#wh-refresh').addEventListener('click', act(load))
  $('#wh-secret-copy').addEventListener('click', () => {
    const button = $('#wh-secret-copy')
    navigator.clipboard?.writeText($('#wh-secret-value').textContent ?? '').then(
      () => {
        button.textContent = 'Copied'
      },
      () => undefined,
    )
  })
  $('#wh-secret-done').addEventListener('click', () => {
    $('#wh-secret').hidden = true
    $('#wh-secret-value').textContent = ''
  })
  return { load }
}
