// A leaf with no imports: the pages' browser scripts bundle it too.

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

/**
 * A subscription state's reason, or a failed pull's (`pull_failed:<reason>`), in plain words;
 * internal codes are never shown alone, so an unknown one is null.
 */
export function reasonWords(reason: string | null): string | null {
  if (!reason) return null
  const [head, tail] = reason.split(':')
  if (head === 'pull_failed' || head === 'permit_unusable')
    return reasons[tail ?? ''] ?? 'the last charge could not be collected'
  return reasons[head ?? ''] ?? null
}
