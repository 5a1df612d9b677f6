import type { NextFunction, Request, Response } from 'express'
import { BaseError } from '../core/errors.js'
import type { Operation } from './operations/operation.js'

/** A query parameter the route does not take, or one given more than once. */
class InvalidQueryParameterError extends BaseError {
  override name = 'InvalidQueryParameterError'
  constructor(parameter: string, reason: 'unknown' | 'repeated') {
    super(
      reason === 'unknown'
        ? `this route takes no query parameter "${parameter}"`
        : `the query parameter "${parameter}" is given more than once`,
      { code: 'INVALID_QUERY_PARAMETER', details: { parameter, reason } },
    )
  }
}

/** The query schema of each GET path in `table` that takes one, its `{param}`s as patterns. */
const querySchemas = (table: readonly Operation[]) =>
  table.flatMap((op) =>
    op.method === 'get' && op.query
      ? [op.path, ...(op.aliases ?? [])].map((path) => ({
          pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`),
          schema: op.query!,
        }))
      : [],
  )

/**
 * Middleware: a GET (or HEAD) whose path has a query schema in the operation table may carry
 * only that schema's parameters, each once; every other request carries none. A name nobody
 * reads (`?status[a]=b`, `?type[]=x`, a typo) is refused rather than silently ignored, so a
 * client never believes a filter applied that did not. The route still parses its query with
 * its schema (types, ranges).
 *
 * @example
 * router.use(strictQuery(operations)) // before auth: a stray parameter is refused first
 */
export function strictQuery(table: readonly Operation[]) {
  const schemas = querySchemas(table)
  return (req: Request, _res: Response, next: NextFunction) => {
    const full = `${req.baseUrl}${req.path}`
    const path = full.length > 1 ? full.replace(/\/+$/, '') : full
    const schema =
      req.method === 'GET' || req.method === 'HEAD'
        ? schemas.find((s) => s.pattern.test(path))?.schema
        : undefined
    for (const [name, value] of Object.entries(req.query)) {
      if (!schema || !Object.hasOwn(schema.shape, name))
        throw new InvalidQueryParameterError(name, 'unknown')
      if (Array.isArray(value)) throw new InvalidQueryParameterError(name, 'repeated')
    }
    next()
  }
}
