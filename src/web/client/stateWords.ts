// States and reasons in plain words: the server renders them into the page, the scripts update them.

const reasons: Record<string, string> = {
  allowance_revoked:
    'your USDC allowance to the collector was revoked, so the last charge could not be collected',
  balance_empty: 'your wallet did not hold enough USDC for the last charge',
  blacklisted: 'USDC refuses transfers from this wallet (it is blocked by the token’s issuer)',
  token_paused: 'USDC transfers are paused by the token’s issuer',
  allowance_reduced: 'your USDC allowance was lowered outside this page',
  permit_nonce_used: 'your wallet signed another USDC permit, which voided this one',
  no_credit: 'the allowance you signed is used up',
  canceled_by_signature: 'you canceled it by signature',
  canceled_on_chain: 'it was canceled on-chain',
  canceled: 'it was canceled',
}
/** A state reason in plain words (internal codes never shown alone). */
export function reasonWords(reason: string | null): string | null {
  if (!reason) return null
  const [head, tail] = reason.split(':')
  if (head === 'pull_failed' || head === 'permit_unusable')
    return reasons[tail ?? ''] ?? 'the last charge could not be collected'
  return reasons[head ?? ''] ?? null
}

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
