/**
 * Every error code a caller can see, and what it means. The one list: `BaseError` and the
 * error envelope take a code only from here (the compiler says so). Which HTTP status a code
 * answers with is the HTTP layer's business, not the domain's: `src/api/errorStatus.ts`.
 * `anyRequest`: a code any request can meet, whatever it asks (an unreadable body or path, a
 * database away); every operation documents those.
 */
export const errorCodes = {
  VALIDATION_FAILED: {
    description: 'the request does not match its schema',
    anyRequest: true,
  },
  MALFORMED_JSON: {
    description: 'the body is not JSON',
    anyRequest: true,
  },
  BAD_REQUEST: {
    description: 'the body cannot be read (charset, encoding)',
    anyRequest: true,
  },
  UNKNOWN_ACTION: { description: 'the rate card has no such action' },
  INVALID_TEXT: {
    description: 'a text value holds NUL or an unpaired surrogate (PostgreSQL cannot store it)',
    anyRequest: true,
  },
  MALFORMED_URL: {
    description: 'the path or query is not valid percent-encoded UTF-8',
    anyRequest: true,
  },
  INVALID_QUERY_PARAMETER: {
    description: 'a query parameter the route does not take, or one given more than once',
  },
  MALFORMED_BODY: {
    description: 'the body cannot be read (not what its Content-Encoding says, cut short)',
    anyRequest: true,
  },
  SIGNATURE_REJECTED: { description: 'a signed authorization does not verify' },
  UNAUTHORIZED: { description: 'no credential, or an unknown or expired one' },
  BILLING_INACTIVE: {
    description: 'billing is not active (reason: inactive or no_credit); nothing was done',
  },
  SPEND_CAP_REACHED: {
    description:
      'a spend cap is reached — the on-chain monthly limit, or a budget of the API key or the org (details: scope, period, limit, spent, resets_at); nothing was done',
  },
  PAYMENT_REQUIRED: {
    description:
      'this route is paid over x402: pay as the PAYMENT-REQUIRED header says and retry with PAYMENT-SIGNATURE',
  },
  PAYMENT_REFUSED: {
    description:
      'an x402 payment was refused (reason: payee, network, asset, amount, expired, not_yet_valid, nonce_used, signature, insufficient_funds, ...); nothing was credited',
  },
  FORBIDDEN: { description: 'this role may not do that (owner or admin only)' },
  CROSS_SITE_REQUEST: {
    description: 'a cookie-authenticated write from another site',
  },
  NOT_OWNER: { description: "the wallet is not the subscription's owner" },
  HISTORY_NOT_PUBLIC: { description: 'the history is not public' },
  NOT_FOUND: { description: 'no such thing (or not visible to the caller)' },
  NO_BILLING_ACCOUNT: { description: 'the org has no billing account' },
  IDEMPOTENCY_CONFLICT: {
    description: 'the Idempotency-Key was used for another request',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    description: 'a request with this Idempotency-Key is still running; retry shortly',
  },
  LEASE_NOT_HELD: { description: 'the caller does not hold the lease' },
  ALREADY_CLAIMED: { description: 'the issue is leased by someone else' },
  INVALID_TRANSITION: { description: 'the subscription cannot move to that state' },
  USAGE_STATE: { description: 'the usage is not in a state that allows this' },
  REFUND_EXCEEDS_CHARGED: {
    description:
      'a refund larger than what is left of the charge (or the usage lines) to refund: charged minus refunded already (details: charged, refunded, asked); nothing was refunded',
  },
  REFUND_NOT_CHARGED: {
    description:
      'the usage lines are not charged yet (void them instead), or not billable usage of the org; nothing was refunded',
  },
  MONTH_NOT_SETTLED: {
    description:
      'a month of usage still has reserved usage, billable usage not booked into a charge, or a charge not collected or written off (details: month and counts); nothing was detached',
  },
  TOP_UP_REFUSED: {
    description:
      'the top-up cannot be requested now (details.reason: not_prepaid — the org is postpaid; no_permit — no active permit to pull from: the owner signs one on the manage page, /s/<details.subscription_id>; in_flight — another top-up is open, details.top_up_id; exceeds_allowance — more than the permit has left); nothing was booked',
  },
  RETIRE_REFUSED: {
    description:
      'the charge cannot be retired: in flight, collected, or its seq is not the next on-chain',
  },
  REQUEST_TIMEOUT: {
    description: 'the request did not arrive in time',
    anyRequest: true,
  },
  PAYLOAD_TOO_LARGE: {
    description: 'the body is over 64 kB',
    anyRequest: true,
  },
  UNSUPPORTED_MEDIA_TYPE: {
    description: 'a charset or content encoding the server does not read',
    anyRequest: true,
  },
  RATE_LIMITED: { description: 'too many requests; slow down and retry' },
  HEADERS_TOO_LARGE: {
    description: "the request's headers are over 16 kB",
    anyRequest: true,
  },
  INTERNAL: { description: 'a bug: reported, never expected' },
  METERING_FAILED: {
    description: 'metering an action failed (a bug); only it failed',
  },
  CONFIG_INVALID: { description: 'the server is misconfigured' },
  RETRYABLE: {
    description: 'busy; retry (with the same Idempotency-Key)',
    anyRequest: true,
  },
  UNREACHABLE: {
    description: 'the database could not be reached; retry',
    anyRequest: true,
  },
  METERING_IN_DOUBT: {
    description: 'whether the usage was recorded is unknown; retry with the same Idempotency-Key',
  },
  PAYMENT_PENDING: {
    description:
      'an x402 payment is not settled yet (in flight, or the operator cannot send); retry with the same payment header',
  },
  NO_CHAIN: { description: 'this node has no chain operator configured' },
  NOT_CANCELED: {
    description: 'a new subscription can only replace a canceled one',
  },
} as const satisfies Record<string, { description: string; anyRequest?: true }>

/** A code from the table. */
export type ErrorCode = keyof typeof errorCodes
