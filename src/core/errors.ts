import type { ErrorCode } from './errorCodes.js'

/**
 * The one error type of Tollgate. Every error a caller can see has a stable `code` and
 * nothing about HTTP: the API's single error handler maps the code to its status
 * (`src/api/errorStatus.ts`), so neither domain code nor routes pick status codes.
 */
export class BaseError extends Error {
  override name = 'BaseError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(
    message: string,
    options: {
      code: ErrorCode
      details?: Record<string, unknown>
      cause?: unknown
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.details = options.details
  }
}

/** Bad input from a caller; nothing changed. */
export class ValidationError extends BaseError {
  override name = 'ValidationError'
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { code: 'VALIDATION_FAILED', details })
  }
}

/** The thing asked for does not exist (or is not visible to the caller). */
export class NotFoundError extends BaseError {
  override name = 'NotFoundError'
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { code: 'NOT_FOUND', details })
  }
}

/** A failure worth retrying (an RPC outage, a serialization conflict). */
export class RetryableError extends BaseError {
  override name = 'RetryableError'
  constructor(message: string, options: { code?: ErrorCode; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'RETRYABLE', cause: options.cause })
  }
}

/** Configuration that cannot run: raised at start-up, naming the field and the reason. */
export class ConfigError extends BaseError {
  override name = 'ConfigError'
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { code: 'CONFIG_INVALID', details })
  }
}

/** The node runs without a chain (or without its operator), so it cannot do what needs one. */
export class NoChainError extends BaseError {
  override name = 'NoChainError'
  constructor(message = 'this node has no chain operator configured') {
    super(message, { code: 'NO_CHAIN' })
  }
}
