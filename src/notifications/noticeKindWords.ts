// The notice kinds an owner may mail themselves, in plain words (docs/notifications.md lists
// what causes each). The manage page's form keeps the ids as values and the unsubscribe page
// names the kind; the words are what the owner reads. A leaf: the server pages and the
// browser bundle both import it.

const words: Record<string, string> = {
  'allowance.low': 'Your allowance is running low (80% and 95% used)',
  'allowance.exhausted': 'Your allowance is used up and paid calls are refused',
  'budget.reached': 'Your monthly limit or a spend budget is reached',
  'budget.reset': 'A reached limit or budget has room again',
  'credit.low': 'Your signup credit is running low (a fifth left)',
  'credit.exhausted': 'Your signup credit is used up',
  'subscription.activated': 'Your subscription becomes active',
  'subscription.lapsed': 'Your subscription lapses because a charge could not be collected',
  'subscription.recovered': 'Your subscription is active again',
  'subscription.canceled': 'Your subscription is canceled',
  'charge.collected': 'A charge is collected from your wallet',
  'charge.failed': 'A charge could not be collected',
  'permit.expiring': 'Your authorization expires within 7 days',
  'webhook.disabled': 'A webhook endpoint is turned off after failing deliveries',
}

/** A notice kind in plain words; a kind not listed here yet shows as its id. */
export const noticeKindWords = (kind: string): string => words[kind] ?? kind
