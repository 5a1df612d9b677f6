import { windowWords } from '../../core/windowWords.js'
import { page } from './manageApi.js'
import type { Typed } from './manageTypes.js'
import { dateTime, shortAddress, usd, windowDates } from './ui.js'

/** The window a new authorization's terms apply to: the current one, or one from now. */
function currentWindow(): Date {
  if (
    page.state?.window_start &&
    page.state.window_end &&
    Date.parse(page.state.window_end) > Date.now()
  )
    return new Date(page.state.window_start)
  return new Date()
}

/**
 * The plain words for one typed-data signature, from the very values the wallet will sign;
 * `capNote` says why a permit's amount is less than the cap the owner typed.
 */
export function explain(typed: Typed, owner: string, product: string, capNote: string): string {
  const m = typed.message
  if (typed.primaryType === 'Permit') {
    return `You allow ${product} to collect up to ${usd(m.value!)} in USDC from ${shortAddress(owner)}${capNote} (a USDC permit to the collector ${shortAddress(m.spender!)}). Valid until ${dateTime(new Date(Number(m.deadline) * 1000))}. Nothing is charged now; you pay no gas.`
  }
  const seconds = Number(m.period)
  const window = windowWords(seconds)
  const limit = BigInt(m.limit!)
  return `You allow ${product} to collect up to ${usd(m.cap!)} in total from ${shortAddress(owner)}, ${
    limit > 0n
      ? `at most ${usd(limit)} in any ${window} (this window: ${windowDates(currentWindow(), seconds)})`
      : `with no monthly limit (${window}s, this window: ${windowDates(currentWindow(), seconds)})`
  }. Valid until ${dateTime(new Date(Number(m.deadline) * 1000))}. Nothing is charged now; you pay no gas.`
}
