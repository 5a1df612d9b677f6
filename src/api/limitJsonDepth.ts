import type { RequestHandler } from 'express'
import { ValidationError } from '../core/errors.js'

/** The deepest a JSON body may nest; no request the API takes comes near it. */
const MAX_DEPTH = 64

/** Whether `value` nests arrays and objects deeper than `max` (walked without recursion). */
function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth >= max) return true
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

/**
 * Refuses a parsed JSON body nested deeper than `MAX_DEPTH` as 400 `VALIDATION_FAILED`. JSON.parse
 * takes any depth, but what later writes the body back out (the idempotency hash's
 * JSON.stringify) recurses, and a 64 kB body of `[[[…]]]` overflowed the stack: a 500.
 */
export const limitJsonDepth: RequestHandler = (req, _res, next) => {
  next(
    deeperThan(req.body, MAX_DEPTH)
      ? new ValidationError(`the JSON body nests deeper than ${MAX_DEPTH} levels`)
      : undefined,
  )
}
