// Shared by the pages' scripts: formatting from integers, addresses, dates, plain-word states
// and errors, the injected wallet, Sign-In with Ethereum.
import { createSiweMessage } from 'viem/siwe'
import { formatUsd } from '../../ledger/formatUsd.js'

export { reasonWords, stateWords } from './stateWords.js'

/** The element for `selector`; a missing one is a bug in the page, so it throws. */
export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector)
  if (!el) throw new Error(`missing ${selector}`)
  return el
}

/** Dollars from micro-credits, from the integer (never a float): 5000000 → "$5.00". */
export const usd = (micros: bigint | string) => formatUsd(BigInt(micros))

/** An amount element: dollars shown, the exact micro-credits on hover and to screen readers. */
export function amount(micros: bigint | string | null, none = 'none'): HTMLElement {
  const el = document.createElement('span')
  if (micros === null) {
    el.textContent = none
    return el
  }
  el.textContent = usd(micros)
  el.title = `${BigInt(micros).toString()} micro-credits (1 micro-credit = $0.000001)`
  return el
}

/** Puts `micros` into `selector` as an amount. */
export function setAmount(selector: string, micros: bigint | string | null, none = 'none') {
  $(selector).replaceChildren(amount(micros, none))
}

/** `0x976E…0aa9`. */
export const shortAddress = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`

/** A shortened address (or hash) with its full value on hover and a copy button. */
export function copyable(value: string, href?: string | null): HTMLElement {
  const wrap = document.createElement('span')
  const text = document.createElement(href ? 'a' : 'code')
  text.textContent = shortAddress(value)
  text.title = value
  if (href) (text as HTMLAnchorElement).href = href
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'copy'
  button.textContent = 'Copy'
  button.setAttribute('aria-label', `Copy ${value}`)
  button.addEventListener('click', () => {
    navigator.clipboard?.writeText(value).then(
      () => {
        button.textContent = 'Copied'
      },
      () => undefined,
    )
  })
  wrap.append(text, button)
  return wrap
}

const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })
const dateFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
})
const timeFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})
/** "2 Dec" in the viewer's locale. */
export const shortDay = (d: Date) => dayFormat.format(d)
/** "2 Mar 2027" in the viewer's locale. */
export const longDay = (d: Date) => dateFormat.format(d)
/** "2 Mar 2027, 14:05" in the viewer's locale and time zone. */
export const dateTime = (d: Date) => timeFormat.format(d)

/** A window's dates: from its start to the last moment inside it ("2 Dec – 1 Jan"). */
export const windowDates = (start: Date, seconds: number) =>
  `${shortDay(start)} – ${shortDay(new Date(start.getTime() + seconds * 1000 - 1))}`

/** The network a chain id names, in words. */
export function networkName(chainId: number | null): string {
  if (chainId === 8453) return 'Base'
  if (chainId === 84532) return 'Base Sepolia (test network)'
  if (chainId === 31337) return 'local test chain'
  return chainId === null ? 'no chain' : `chain ${chainId}`
}

/** An error as a plain sentence: no contract revert text, no stack. */
export function plainError(e: unknown): string {
  const err = e as { code?: number | string; message?: string }
  const msg = err?.message ?? String(e)
  if (err?.code === 4001 || /user (rejected|denied)|declined/i.test(msg))
    return 'You declined in your wallet; nothing changed.'
  if (/revert|contract function|execution|call exception/i.test(msg))
    return 'The network refused this change, so nothing happened. Reload the page to see the current state.'
  if (/failed to fetch|network/i.test(msg)) return 'The server could not be reached; try again.'
  const sentence = msg.charAt(0).toUpperCase() + msg.slice(1)
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`
}

type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> }
/** The injected wallet (EIP-1193), or a plain error when there is none. */
export function wallet(): Eip1193 {
  const w = (window as unknown as { ethereum?: Eip1193 }).ethereum
  if (!w) throw new Error('no wallet found: install or unlock a browser wallet')
  return w
}

type Typed = {
  domain: Record<string, unknown>
  types: Record<string, unknown>
  primaryType: string
  message: Record<string, unknown>
}
const domainFields = [
  ['name', 'string'],
  ['version', 'string'],
  ['chainId', 'uint256'],
  ['verifyingContract', 'address'],
] as const
/** Asks the wallet to sign EIP-712 typed data (eth_signTypedData_v4). */
export async function signTyped(account: string, typed: Typed): Promise<string> {
  const EIP712Domain = domainFields
    .filter(([k]) => typed.domain[k] !== undefined)
    .map(([name, type]) => ({ name, type }))
  const payload = { ...typed, types: { EIP712Domain, ...typed.types } }
  return (await wallet().request({
    method: 'eth_signTypedData_v4',
    params: [account, JSON.stringify(payload)],
  })) as string
}

/**
 * Sign-In with Ethereum (EIP-4361): this site's domain and URI, the wallet's chain, our nonce,
 * a ten-minute expiry. Returns the address, message and signature for the server to check.
 */
export async function signInWithEthereum(p: {
  nonce: string
  statement: string
}): Promise<{ address: string; message: string; signature: string; chainId: number }> {
  const [address] = (await wallet().request({ method: 'eth_requestAccounts' })) as string[]
  if (!address) throw new Error('the wallet shared no account')
  const chainId = Number.parseInt((await wallet().request({ method: 'eth_chainId' })) as string, 16)
  const now = new Date()
  const message = createSiweMessage({
    domain: location.host,
    address: address as `0x${string}`,
    statement: p.statement,
    uri: location.origin,
    version: '1',
    chainId,
    nonce: p.nonce,
    issuedAt: now,
    expirationTime: new Date(now.getTime() + 10 * 60_000),
  })
  const hex = `0x${Array.from(new TextEncoder().encode(message), (b) => b.toString(16).padStart(2, '0')).join('')}`
  const signature = (await wallet().request({
    method: 'personal_sign',
    params: [hex, address],
  })) as string
  return { address, message, signature, chainId }
}

/** Table rows from data, as text (never parsed as HTML); an empty table says so. */
export function fillTable(
  selector: string,
  rows: (string | Node)[][],
  empty: string,
  cols: number,
) {
  const body = $(selector)
  body.replaceChildren()
  // Each cell is labelled by its column: a `table.stacked` stacks its rows on a narrow screen.
  const heads = Array.from(body.closest('table')?.querySelectorAll('thead th') ?? [], (th) =>
    (th.textContent ?? '').trim(),
  )
  for (const cells of rows) {
    const tr = document.createElement('tr')
    for (const [i, c] of cells.entries()) {
      const td = document.createElement('td')
      if (heads[i]) td.dataset.label = heads[i]
      td.append(c)
      tr.append(td)
    }
    body.append(tr)
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr')
    const td = document.createElement('td')
    td.colSpan = cols
    td.className = 'empty'
    td.textContent = empty
    tr.append(td)
    body.append(tr)
  }
}
