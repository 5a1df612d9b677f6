import type { ErrorRequestHandler, RequestHandler } from 'express'
import postgres from 'postgres'
import { ZodError } from 'zod'
import { databaseUnavailable } from '../db/client.js'
import type { ErrorCode } from '../errorCodes.js'
import { BaseError, RetryableError } from '../errors.js'
import type { Logger } from '../log.js'

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

/** Maps every error to its status and envelope. No stack trace ever leaves the server. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (thrown, req, res, _next) => {
    const err = retryable(thrown) ?? thrown
    let status = 500
    let body: ErrorBody
    if (err instanceof BaseError) {
      status = err.status
      body = {
        error: { code: err.code, message: err.message, ...(jsonSafe(err.details ?? {}) as object) },
      }
    } else if (err instanceof ZodError) {
      status = 400
      body = {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'the request is not valid',
          issues: err.issues.map((i) => ({
            path: i.path.map(String),
            message: i.message,
            code: i.code,
          })),
        },
      }
    } else if (err && typeof err === 'object' && 'type' in err && typeof err.status === 'number') {
      // body-parser's errors: entity.too.large, entity.parse.failed, charset/encoding problems.
      status = err.status >= 400 && err.status < 500 ? err.status : 400
      const code =
        err.type === 'entity.too.large'
          ? 'PAYLOAD_TOO_LARGE'
          : err.type === 'entity.parse.failed'
            ? 'MALFORMED_JSON'
            : status === 415
              ? 'UNSUPPORTED_MEDIA_TYPE'
              : 'BAD_REQUEST'
      body = { error: { code, message: String((err as { message?: string }).message ?? code) } }
    } else {
      log.error('unhandled error', {
        method: req.method,
        path: req.path,
        error:
          err instanceof Error
            ? { name: err.name, message: err.message, stack: err.stack }
            : String(err),
      })
      body = { error: { code: 'INTERNAL', message: 'internal error' } }
    }
    if (status >= 500 && err instanceof BaseError)
      log.error(err.message, {
        code: err.code,
        // The database's code and words (never a connection string: the driver puts none there).
        ...(err !== thrown && thrown instanceof Error
          ? { cause: { code: (thrown as { code?: unknown }).code, message: thrown.message } }
          : {}),
      })
    if (res.headersSent) return
    if (status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS))
    res.status(status).json(body)
  }
}

/** 404 in the same envelope for any route nobody claimed. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res
    .status(404)
    .json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } })
}
