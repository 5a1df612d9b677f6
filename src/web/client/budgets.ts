// The dashboard's Budgets card: the org's and its keys' spend budgets, what each has spent and
// when it resets, setting one (with a temporary override) and removing one — all through
// /v1/budgets, the same checks as the API and `tollgate budget` (docs/design.md, Budgets).

import { microsOfUsd, USD_AMOUNT_PATTERN } from '../../core/microsOfUsd.js'
import { $, dateTime, fillTable, plainError, usd } from './ui.js'
import type { Send } from './webhooks.js'

type Money = { micros: string; usd: string }
type Budget = {
  scope: 'org' | 'key'
  key_id: string | null
  period: 'day' | 'week' | 'month'
  limit: Money
  override: { limit: Money; until: string } | null
  effective_limit: Money
  spent: Money
  remaining: Money
  resets_at: string
}
type Key = { id: string; prefix: string; label: string | null; revoked_at: string | null }
type Say = (text: string, error?: boolean) => void

const periodWords = { day: 'UTC day', week: 'UTC week', month: 'UTC month' } as const

/** The Budgets card: wires its form once; `load` fills it for the signed-in org. */
export function budgetsCard({ send, say }: { send: Send; say: Say }) {
  let keys: Key[] = []
  const keyName = (id: string | null) => {
    if (id === null) return 'The whole organization'
    const k = keys.find((x) => x.id === id)
    return k ? `Key ${k.label ?? k.prefix}` : `Key ${id.slice(0, 8)}`
  }
  const act = (fn: () => Promise<void>) => async () => {
    try {
      await fn()
    } catch (e) {
      say(plainError(e), true)
    }
  }

  async function load() {
    keys = (await send<{ keys: Key[] }>('GET', '/keys')).keys.filter((k) => !k.revoked_at)
    const scope = $<HTMLSelectElement>('#bu-scope')
    const chosen = scope.value
    scope.replaceChildren(
      new Option('The whole organization', 'org'),
      ...keys.map((k) => new Option(keyName(k.id), k.id)),
    )
    if (Array.from(scope.options).some((o) => o.value === chosen)) scope.value = chosen
    const { budgets } = await send<{ budgets: Budget[] }>('GET', '/budgets')
    fillTable(
      '#bu-list',
      budgets.map((b) => {
        const remove = document.createElement('button')
        remove.type = 'button'
        remove.textContent = 'Remove'
        remove.setAttribute(
          'aria-label',
          `Remove the ${periodWords[b.period]} budget of ${keyName(b.key_id)}`,
        )
        remove.addEventListener(
          'click',
          act(async () => {
            await send('DELETE', `/budgets/${b.key_id ?? 'org'}/${b.period}`)
            await load()
            say(`Removed the ${periodWords[b.period]} budget of ${keyName(b.key_id)}.`)
          }),
        )
        return [
          keyName(b.key_id),
          periodWords[b.period],
          b.override
            ? `${b.override.limit.usd} until ${dateTime(new Date(b.override.until))}, then ${b.limit.usd}`
            : b.limit.usd,
          `${b.spent.usd} (${b.remaining.usd} left)`,
          dateTime(new Date(b.resets_at)),
          remove,
        ]
      }),
      'No budgets: only your authorization limits spending.',
      6,
    )
    $('#budgets').hidden = false
  }

  async function save() {
    const limit = $<HTMLInputElement>('#bu-limit').value.trim().replace(/^\$/, '')
    const override = $<HTMLInputElement>('#bu-override').value.trim().replace(/^\$/, '')
    const until = $<HTMLInputElement>('#bu-until').value
    if (!USD_AMOUNT_PATTERN.test(limit))
      return say('Enter the limit in dollars, e.g. 3 or 2.50.', true)
    if (override !== '' && !USD_AMOUNT_PATTERN.test(override))
      return say('Enter the override in dollars, e.g. 10, or leave it empty.', true)
    if ((override === '') !== (until === ''))
      return say('An override needs both a limit and the time it ends.', true)
    const scope = $<HTMLSelectElement>('#bu-scope').value
    const period = $<HTMLSelectElement>('#bu-period').value as Budget['period']
    const { budget } = await send<{ budget: Budget }>('POST', '/budgets', {
      key_id: scope === 'org' ? null : scope,
      period,
      limit_micros: microsOfUsd(limit).toString(),
      // An empty override clears one the budget had.
      override:
        override === ''
          ? null
          : {
              limit_micros: microsOfUsd(override).toString(),
              until: new Date(until).toISOString(),
            },
    })
    await load()
    say(
      `Saved: ${keyName(budget.key_id)} may spend ${budget.effective_limit.usd} per ${periodWords[budget.period]}; ${usd(budget.spent.micros)} spent so far.`,
    )
  }
  $('#bu-set').addEventListener('submit', (ev) => {
    ev.preventDefault()
    void act(save)()
  })

  return { load }
}
