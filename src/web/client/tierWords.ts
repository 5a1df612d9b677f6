// The rate card's tiers as the reference spec names them to owners ("Plumbing (sub-floor)"),
// never the card's keys ("subfloor"). A tier of an operator's own card is shown as it is named.

const tiers: Record<string, { label: string; about: string }> = {
  moat: {
    label: 'Moat (dispatch)',
    about: 'claiming work: atomic, leased, dependency-aware dispatch',
  },
  work: { label: 'Work', about: 'durable writes: issues, bodies, comments, checkpoints' },
  bookkeeping: { label: 'Bookkeeping', about: 'field flips: status, priority, title, labels' },
  plumbing: { label: 'Plumbing', about: 'session keys and releasing a claim' },
  subfloor: { label: 'Plumbing (sub-floor)', about: 'lease keepalive (heartbeat)' },
}

/** A tier's cell: the spec's name, with what it covers on hover. */
export function tierWords(tier: string): HTMLElement {
  const el = document.createElement('span')
  const known = tiers[tier]
  el.textContent = known?.label ?? tier
  if (known) el.title = known.about
  return el
}
