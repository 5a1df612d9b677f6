import { USD_AMOUNT_PATTERN } from '../../core/microsOfUsd.js'
import { explain } from './explainSignature.js'
import { api, connect, page, say } from './manageApi.js'
import type { Typed } from './manageTypes.js'
import { showOutcome } from './outcome.js'
import { refresh } from './refreshManage.js'
import { $, signTyped, usd } from './ui.js'

/**
 * Authorize (or change the cap or monthly limit): asks the server for the typed data, says in
 * words what each signature means, has the wallet sign, submits, and shows the outcome.
 */
export async function authorize(): Promise<void> {
  const cap = ($('#cap') as HTMLInputElement).value.trim().replace(/^\$/, '')
  const limit = ($('#limit') as HTMLInputElement).value.trim().replace(/^\$/, '')
  // A live subscription keeps its cap when the field is left empty (a new limit alone).
  const keepCap = page.state?.state === 'active' && cap === ''
  if (!keepCap && !USD_AMOUNT_PATTERN.test(cap))
    throw new Error('enter a lifetime cap in dollars, e.g. 25 or 12.50')
  if (limit && !USD_AMOUNT_PATTERN.test(limit))
    throw new Error('enter the monthly limit in dollars, e.g. 5, or leave it empty')
  const owner = await connect()
  const button = $('#sign-authorize') as HTMLButtonElement
  button.disabled = true
  try {
    const prepared = await api<{ permit?: Typed; terms?: Typed }>('/prepare', {
      action: 'authorize',
      ...(keepCap ? {} : { cap }),
      ...(limit ? { monthly_limit: limit } : {}),
    })
    const product = page.state!.product
    // A new limit the allowance already covers is the terms alone: one signature.
    const typed = [prepared.permit, prepared.terms].filter((t): t is Typed => t !== undefined)
    const names = ['USDC allowance', 'monthly limit']
    const capMicros = prepared.terms ? BigInt(prepared.terms.message.cap!) : null
    const value = prepared.permit ? BigInt(prepared.permit.message.value!) : null
    const capNote =
      capMicros !== null && value !== null && capMicros !== value
        ? ` more (your lifetime cap of ${usd(capMicros)} less what was already collected or is owed)`
        : ''
    const list = $('#steps')
    list.replaceChildren()
    const signatures: string[] = []
    for (const [i, t] of typed.entries()) {
      const li = document.createElement('li')
      const strong = document.createElement('strong')
      strong.textContent = `Signature ${i + 1} of ${typed.length}: ${t.primaryType === 'Permit' ? names[0] : names[1]}`
      li.append(strong, explain(t, owner, product, capNote))
      li.dataset.primaryType = t.primaryType
      list.append(li)
      say(`${strong.textContent} — check it in your wallet and sign.`)
      signatures.push(await signTyped(owner, t))
      li.className = 'done'
    }
    const body: Record<string, unknown> = keepCap ? {} : { cap }
    if (prepared.permit) {
      const p = prepared.permit.message
      body.permit = {
        value: p.value,
        deadline: p.deadline,
        nonce: p.nonce,
        signature: signatures[0],
      }
    }
    if (prepared.terms) {
      const t = prepared.terms.message
      body.terms = {
        cap: t.cap,
        limit: t.limit,
        period: Number(t.period),
        nonce: Number(t.nonce),
        deadline: t.deadline,
        signature: signatures[typed.indexOf(prepared.terms)],
      }
    }
    say('Sending your authorization…')
    const done = await api<{
      held: boolean
      tx_hash: string | null
      explorer_url?: string | null
    }>('/authorize', body)
    await refresh()
    say('')
    showOutcome(
      done.held
        ? 'Authorized. Your wallet is deployed with its first charge.'
        : `Authorized: up to ${usd(BigInt(page.state!.micros?.cap ?? '0'))} in total${page.state!.micros?.monthly_limit ? `, at most ${usd(page.state!.micros.monthly_limit)} a window` : ''}.`,
      done.tx_hash,
      done.explorer_url,
    )
  } finally {
    button.disabled = false
  }
}
