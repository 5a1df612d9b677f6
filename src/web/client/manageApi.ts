// The manage page's shared state and its calls to the server.

import type { ManageState } from './manageTypes.js'
import { $, plainError, wallet } from './ui.js'

/** The subscription this page manages. */
export const id = document.body.dataset.sub!
/** A manage link's token (`?t=`), sent with every request instead of a session. */
export const link = new URLSearchParams(location.search).get('t')
/** What the page knows: the last state it rendered, the wallet's account once connected. */
export const page: { state: ManageState | undefined; account: string | null } = {
  state: undefined,
  account: null,
}

/** The page's one-line message: progress, or an error in words. */
export function say(text: string, error = false) {
  const m = $('#message')
  m.textContent = text
  m.className = error ? 'error' : ''
}

/** A call to this subscription's manage routes; an error answer throws its message. */
export async function api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/s/${id}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(link ? { 'x-manage-token': link } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  })
  const json = await res.json()
  if (!res.ok) throw Object.assign(new Error(json.error?.message ?? res.statusText), { api: true })
  return json as T
}

/** Runs an action from a click, saying any error in plain words. */
export function guard(fn: () => Promise<void>) {
  return async () => {
    try {
      await fn()
    } catch (e) {
      say(plainError(e), true)
    }
  }
}

/** The connected wallet's account, asking the wallet once. */
export async function connect() {
  if (!page.account)
    page.account =
      ((await wallet().request({ method: 'eth_requestAccounts' })) as string[])[0] ?? null
  if (!page.account) throw new Error('the wallet shared no account')
  return page.account
}
