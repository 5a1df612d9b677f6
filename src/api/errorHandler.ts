import type { ErrorRequestHandler, RequestHandler } from 'express'
import postgres from 'postgres'
import { ZodError } from 'zod'
import type { ErrorCode } from '../core/errorCodes.js'
import { BaseError, RetryableError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { INVALID_TEXT } from '../core/text.js'
import { databaseUnavailable } from '../db/client.js'
import { statusOf } from './errorStatus.js'

/** The one JSON error envelope: `{ "error": { "code", "message", ...details } }`. */
export type ErrorBody = { error: { code: ErrorCode; message: string } & Record<string, unknown> }

const jsonSafe = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)))

/** How long a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 1

/**
 * The database's "not now" as a retryable error (`databaseUnavailable`), and a transaction that
 * lost a conflict (40001, 40P01): not the request's fault and not a bug, a 503 the caller
 * retries — with the same `Idempotency-Key`, since a write whose connection was lost may have
 * committed. Anything else from the database stays a 500.
 */
const retryable = (err: unknown) =>
  databaseUnavailable(err) ??
  (err instanceof postgres.PostgresError && (err.code === '40001' || err.code === '40P01')
    ? new RetryableError('the database is busy; retry', { cause: err })
    : undefined)

/**
 * Maps every error to its status and envelope (the API's error handler, and the MCP tools'
 * errors): a code's status is `errorStatus`'s. No stack trace ever leaves the server; an
 * unexpected error is logged with `where`.
 */
export function errorReply(
  thrown: unknown,
  log: Logger,
  where: { method: string; path: string; requestId?: string },
): { status: number; body: ErrorBody } {
  const err = retryable(thrown) ?? thrown
  let status = 500
  let body: ErrorBody
  if (err instanceof BaseError) {
    status = statusOf(err.code)
    body = {
      error: { code: err.code, message: err.message, ...(jsonSafe(err.details ?? {}) as object) },
    }
  } else if (err instanceof ZodError) {
    const code = err.issues.some(isInvalidText) ? INVALID_TEXT : 'VALIDATION_FAILED'
    status = statusOf(code)
    body = {
      error: {
        code,
        message: 'the request is not valid',
        issues: err.issues.map((i) => ({
          path: i.path.map(String),
          message: i.message,
          code: i.code,
        })),
      },
    }
  } else if (err instanceof URIError && (err as { status?: unknown }).status === 400) {
    // The router could not decode a path parameter (`/v1/issues/%E0%A4%A`).
    status = statusOf('MALFORMED_URL')
    body = {
      error: {
        code: 'MALFORMED_URL',
        message: 'the URL path is not valid percent-encoded UTF-8',
      },
    }
  } else if (isClientHttpError(err)) {
    // body-parser's errors: its own (`type`), and a decompression stream's failure (a body
    // that is not what its Content-Encoding says), which it passes on with status 400. An
    // error not in `bodyErrors` keeps the 4xx the HTTP layer gave it.
    const known = typeof err.type === 'string' ? bodyErrors.get(err.type) : undefined
    const code = known ?? (typeof err.type === 'string' ? 'BAD_REQUEST' : 'MALFORMED_BODY')
    status = known ? statusOf(known) : err.status
    const message =
      typeof err.type === 'string'
        ? String(err.message)
        : 'the request body could not be decoded as its Content-Encoding says'
    body = { error: { code, message } }
  } else {
    log.error('unhandled error', {
      requestId: where.requestId,
      method: where.method,
      path: where.path,
      error:
        err instanceof Error
          ? { name: err.name, message: err.message, stack: err.stack }
          : String(err),
    })
    body = { error: { code: 'INTERNAL', message: 'internal error' } }
  }
  if (status >= 500 && err instanceof BaseError)
    log.error(err.message, {
      requestId: where.requestId,
      code: err.code,
      // The database's code and words (never a connection string: the driver puts none there).
      ...(err !== thrown && thrown instanceof Error
        ? { cause: { code: (thrown as { code?: unknown }).code, message: thrown.message } }
        : {}),
    })
  return { status, body }
}

/** The express error handler: `errorReply`'s status and envelope (and Retry-After on a 503). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (thrown, req, res, _next) => {
    const { status, body } = errorReply(thrown, log, {
      method: req.method,
      path: req.path,
      requestId: res.locals.requestId,
    })
    if (res.headersSent) return
    if (status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS))
    res.status(status).json(body)
  }
}

/** A zod issue raised by the shared `text()` schema. */
const isInvalidText = (issue: { code: string }) =>
  issue.code === 'custom' &&
  (issue as { params?: { code?: unknown } }).params?.code === INVALID_TEXT

/** An error from the HTTP layer (body-parser, http-errors) that blames the request: 4xx. */
const isClientHttpError = (
  err: unknown,
): err is { status: number; type?: unknown; message: unknown } =>
  typeof err === 'object' &&
  err !== null &&
  typeof (err as { status?: unknown }).status === 'number' &&
  (err as { status: number }).status >= 400 &&
  (err as { status: number }).status < 500

/** body-parser's error types, as the stable code the API answers them with. */
const bodyErrors = new Map<string, ErrorCode>([
  ['entity.too.large', 'PAYLOAD_TOO_LARGE'],
  ['entity.parse.failed', 'MALFORMED_JSON'],
  ['entity.verify.failed', 'MALFORMED_BODY'],
  ['request.aborted', 'MALFORMED_BODY'],
  ['request.size.invalid', 'MALFORMED_BODY'],
  ['encoding.unsupported', 'UNSUPPORTED_MEDIA_TYPE'],
  ['charset.unsupported', 'UNSUPPORTED_MEDIA_TYPE'],
])

/** 404 in the same envelope for any route nobody claimed. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res
    .status(statusOf('NOT_FOUND'))
    .json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } })
}
