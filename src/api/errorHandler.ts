import type { ErrorRequestHandler, RequestHandler } from 'express'
import { ZodError } from 'zod'
import { BaseError } from '../errors.js'
import type { Logger } from '../log.js'

/** The one JSON error envelope: `{ "error": { "code", "message", ...details } }`. */
export type ErrorBody = { error: { code: string; message: string } & Record<string, unknown> }

const jsonSafe = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)))

/** Maps every error to its status and envelope. No stack trace ever leaves the server. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
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
    if (status >= 500 && err instanceof BaseError) log.error(err.message, { code: err.code })
    if (res.headersSent) return
    res.status(status).json(body)
  }
}

/** 404 in the same envelope for any route nobody claimed. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res
    .status(404)
    .json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } })
}
