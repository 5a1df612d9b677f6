// The owner's notice mail on the manage page: the address, whether it is confirmed, the kinds.

import { noticeKindWords } from '../../notifications/noticeKindWords.js'
import { $ } from './ui.js'

type EmailView = {
  email: { address: string | null; verified: boolean; kinds: string[] }
  kinds_available: string[]
}
type Api = <T>(path: string, body?: unknown) => Promise<T>

/** Fills the form from what the server holds. */
function renderNotices(v: EmailView) {
  const e = v.email
  $('#notice-status').textContent =
    e.address === null
      ? 'No address yet: we send you no email.'
      : e.verified
        ? `Sending to ${e.address} (verified).`
        : `${e.address} is not confirmed yet: open the link we sent to it. Nothing else is sent until then.`
  const input = $<HTMLInputElement>('#notice-address')
  if (document.activeElement !== input) input.value = e.address ?? ''
  const chosen = new Set(e.address === null ? v.kinds_available : e.kinds)
  $('#notice-kinds').replaceChildren(
    ...v.kinds_available.map((kind) => {
      const label = document.createElement('label')
      const box = document.createElement('input')
      box.type = 'checkbox'
      box.name = 'kind'
      box.value = kind
      box.checked = chosen.has(kind)
      // Plain words to read; the id (what webhooks and the API call it) small, and on hover.
      const id = document.createElement('small')
      id.className = 'kind-id'
      id.textContent = kind
      label.title = kind
      label.append(box, ` ${noticeKindWords(kind)} `, id)
      return label
    }),
  )
}

/** Loads the owner's mail settings into the form. */
export async function loadNotices(api: Api): Promise<void> {
  renderNotices(await api<EmailView>('/notifications/email'))
}

/** Saves the address and kinds; the server queues the one-time confirmation mail. */
export async function saveNotices(api: Api): Promise<string> {
  const address = $<HTMLInputElement>('#notice-address').value.trim()
  const kinds = Array.from(
    document.querySelectorAll<HTMLInputElement>('#notice-kinds input:checked'),
    (b) => b.value,
  )
  const v = await api<EmailView>('/notifications/email', { address, kinds })
  renderNotices(v)
  return v.email.verified
    ? `Saved: notices go to ${v.email.address}.`
    : `Saved: we sent a confirmation link to ${v.email.address}.`
}
