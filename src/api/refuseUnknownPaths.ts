import type { NextFunction, Request, Response } from 'express'
import { NotFoundError } from '../core/errors.js'
import type { Operation } from './operations/operation.js'

/**
 * Middleware: a `/v1` path no operation in `table` serves (under any method, aliases included)
 * is 404 `NOT_FOUND` at once, before authentication. Without it a caller with no credential
 * got 401 for a typo and went looking for a key it already had. Paths that exist still meet
 * their guard first. Matched as express matches: case-insensitive, a trailing slash allowed.
 *
 * @example
 * router.use(refuseUnknownPaths(operations)) // before requireAuth
 */
export function refuseUnknownPaths(table: readonly Operation[]) {
  const patterns = table.flatMap((op) =>
    [op.path, ...(op.aliases ?? [])].map(
      (path) => new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}/?$`, 'i'),
    ),
  )
  return (req: Request, _res: Response, next: NextFunction) => {
    const path = `${req.baseUrl}${req.path}`
    next(
      patterns.some((p) => p.test(path))
        ? undefined
        : new NotFoundError(`no route for ${req.method} ${path}`),
    )
  }
}
