import type { z } from 'zod'
import type { Operation, OperationKey, OperationOf } from './operations.js'

type Params<O> = O extends { params: infer P extends Record<string, z.ZodType> }
  ? { [N in keyof P]: z.output<P[N]> }
  : Record<never, never>

/**
 * A request's parts as its operation's schemas parse them. An operation served at aliases
 * that lack a path parameter (`/v1/admins`) may miss it.
 */
export type OperationInput<K extends OperationKey> = {
  params: OperationOf<K> extends { aliases: string[] }
    ? Partial<Params<OperationOf<K>>>
    : Params<OperationOf<K>>
  body: OperationOf<K> extends { body: infer B extends z.ZodType } ? z.output<B> : undefined
  query: OperationOf<K> extends { query: infer Q extends z.ZodObject } ? z.output<Q> : undefined
}

/** A request's parts as they came (path parameters, JSON body, query). */
export type RawInput = {
  params: Record<string, unknown>
  body: unknown
  query: Record<string, unknown>
}

/** A request's parts once parsed, of an operation not known until run time. */
export type ParsedInput = { params: Record<string, unknown>; body: unknown; query: unknown }

/**
 * Parses a request's parts with its operation's schemas: the parameters of `path` (the
 * operation's own, or the alias the request came by) in the order the operation declares them,
 * then the body, then the query; a zod error refuses the request.
 *
 * @example
 * parseOperationInput(operationOf('GET /v1/issues/{id}'), { params: { id }, body: undefined, query: {} })
 */
export function parseOperationInput(
  op: Operation,
  raw: RawInput,
  path: string = op.path,
): ParsedInput {
  const params: Record<string, unknown> = { ...raw.params }
  for (const [name, schema] of Object.entries(op.params ?? {}))
    if (path.includes(`{${name}}`)) params[name] = schema.parse(raw.params[name])
  const body = op.optionalBody ? (raw.body ?? {}) : raw.body
  return {
    params,
    body: op.body ? op.body.parse(body) : undefined,
    query: op.query ? op.query.parse(raw.query) : undefined,
  }
}
