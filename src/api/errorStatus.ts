import type { ErrorCode } from '../core/errorCodes.js'

/**
 * The HTTP status each error code answers with: the one place a status is chosen for a
 * refusal. The error handler, the MCP tools' errors, the owner pages and `/openapi.json` all
 * read it; domain errors carry only their code. The compiler refuses a code without a status.
 */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  UNKNOWN_ACTION: 400,
  INVALID_TEXT: 400,
  MALFORMED_URL: 400,
  INVALID_QUERY_PARAMETER: 400,
  MALFORMED_BODY: 400,
  SIGNATURE_REJECTED: 400,
  UNAUTHORIZED: 401,
  BILLING_INACTIVE: 402,
  SPEND_CAP_REACHED: 402,
  PAYMENT_REQUIRED: 402,
  PAYMENT_REFUSED: 402,
  FORBIDDEN: 403,
  CROSS_SITE_REQUEST: 403,
  NOT_OWNER: 403,
  HISTORY_NOT_PUBLIC: 403,
  NOT_FOUND: 404,
  NO_BILLING_ACCOUNT: 404,
  IDEMPOTENCY_CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  LEASE_NOT_HELD: 409,
  ALREADY_CLAIMED: 409,
  INVALID_TRANSITION: 409,
  USAGE_STATE: 409,
  REFUND_EXCEEDS_CHARGED: 422,
  REFUND_NOT_CHARGED: 409,
  MONTH_NOT_SETTLED: 409,
  TOP_UP_REFUSED: 409,
  RETIRE_REFUSED: 409,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  METERING_FAILED: 500,
  CONFIG_INVALID: 500,
  RETRYABLE: 503,
  UNREACHABLE: 503,
  METERING_IN_DOUBT: 503,
  PAYMENT_PENDING: 503,
  NO_CHAIN: 503,
  NOT_CANCELED: 409,
} as const satisfies Record<ErrorCode, number>

/** The HTTP status `code` answers with. */
export const statusOf = (code: ErrorCode): number => errorStatus[code]
