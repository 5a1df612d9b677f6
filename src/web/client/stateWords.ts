// States and reasons in plain words: the server renders them into the page, the scripts update them.
import { reasonWords } from '../../ledger/reasonWords.js'

export { reasonWords }

/** A subscription state as a short label and a sentence. */
export function stateWords(state: string, reason: string | null): { label: string; words: string } {
  const why = reasonWords(reason)
  switch (state) {
    case 'pending':
      return {
        label: 'Waiting for authorization',
        words:
          'Nothing is billed yet. Authorize a cap to keep using paid actions once the signup credit is used.',
      }
    case 'active':
      return {
        label: 'Active',
        words: 'Paid actions work; usage is collected from your wallet as it adds up.',
      }
    case 'needs_reauth':
      return {
        label: 'Needs a new authorization',
        words: `Paid actions are paused: ${why ?? 'the allowance no longer covers the next action'}. Sign a new cap to resume.`,
      }
    case 'lapsed':
      return {
        label: 'Payment failed',
        words: `Paid actions are paused: ${why ?? 'the last charge could not be collected'}. Fix that, then authorize again to resume.`,
      }
    case 'canceled':
      return { label: 'Canceled', words: `This subscription has ended${why ? `: ${why}` : ''}.` }
    default:
      return { label: state, words: '' }
  }
}
