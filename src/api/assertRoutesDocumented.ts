import type { Express } from 'express'
import { BaseError } from '../core/errors.js'
import { listRoutes } from './listRoutes.js'
import { operations } from './operations.js'

/**
 * What the app serves that is not the API, so not in the operation table: the hosted pages
 * (HTML) and their assets, Prometheus text for the operator, `tollgate dev`'s mail catcher.
 */
const notApi = /^\w+ \/(s|dashboard|notices|metrics|assets|favicon\.ico|dev)(\/|$)/

/** Every `METHOD /path` the operation table documents, aliases included. */
const documented = () =>
  operations.flatMap((op) =>
    [op.path, ...(op.aliases ?? [])].map((path) => `${op.method.toUpperCase()} ${path}`),
  )

/**
 * Refuses to build an app whose routes and operation table (the source of `/openapi.json`)
 * disagree: a route nobody documented, or a documented one nobody serves. Runs at the end of
 * `createApp`, so an undocumented route fails every test and every start, not one test.
 *
 * @example
 * assertRoutesDocumented(app) // throws INTERNAL with `undocumented` and `unserved`
 */
export function assertRoutesDocumented(app: Express): void {
  const served = listRoutes(app).filter((r) => !notApi.test(r))
  const table = documented()
  const undocumented = served.filter((r) => !table.includes(r))
  const unserved = table.filter((r) => !served.includes(r))
  if (undocumented.length > 0 || unserved.length > 0)
    throw new BaseError(
      `routes and the operation table disagree: ${[
        ...undocumented.map((r) => `${r} has no operation`),
        ...unserved.map((r) => `${r} is not served`),
      ].join('; ')}`,
      { code: 'INTERNAL', details: { undocumented, unserved } },
    )
}
