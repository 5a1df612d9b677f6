import type { NextFunction, Request, Response } from 'express'
import type { z } from 'zod'
import { BaseError } from '../core/errors.js'

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

/**
 * Middleware for a router: a GET (or HEAD) whose path has a query schema in `schemas` may
 * carry only that schema's parameters, each once; every other request carries none. A name
 * nobody reads (`?status[a]=b`, `?type[]=x`, a typo) is refused rather than silently ignored,
 * so a client never believes a filter applied that did not. The route still parses its query
 * with its schema (types, ranges).
 */
export function strictQuery(schemas: ReadonlyMap<string, z.ZodObject>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path
    const schema = req.method === 'GET' || req.method === 'HEAD' ? schemas.get(path) : undefined
    for (const [name, value] of Object.entries(req.query)) {
      if (!schema || !Object.hasOwn(schema.shape, name))
        throw new InvalidQueryParameterError(name, 'unknown')
      if (Array.isArray(value)) throw new InvalidQueryParameterError(name, 'repeated')
    }
    next()
  }
}
