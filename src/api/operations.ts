import { accountOperations } from './operations/accountOperations.js'
import { billingOperations } from './operations/billingOperations.js'
import { type Operation, operationKey } from './operations/operation.js'
import { queueOperations } from './operations/queueOperations.js'
import { walletOperations } from './operations/walletOperations.js'
import { x402Operations } from './operations/x402Operations.js'

export { errorsOf, type Operation, operationKey } from './operations/operation.js'

const table = [
  ...accountOperations,
  ...billingOperations,
  ...walletOperations,
  ...queueOperations,
  ...x402Operations,
]

/**
 * Every operation of the HTTP API: the source of `/openapi.json`, of the `/v1` routes (`serve`)
 * and of the API's fuzz test. In the order the fuzz test's seed expects; each idea's operations
 * live in `operations/`.
 */
export const operations: Operation[] = table

/** An operation's key, `METHOD /path` (`POST /v1/usage`). */
export type OperationKey = ReturnType<typeof operationKey>

/** The operation of `key` as the table declares it, with the types of its schemas. */
export type OperationOf<K extends OperationKey> = K extends `${infer M} ${infer P}`
  ? Extract<(typeof table)[number], { method: Lowercase<M>; path: P }>
  : never

const byKey = new Map(operations.map((op) => [operationKey(op) as string, op]))

/**
 * The operation of `key` in the table.
 *
 * @example
 * operationOf('POST /v1/usage').body // usageBody
 */
export function operationOf(key: string): Operation {
  const op = byKey.get(key)
  if (!op) throw new Error(`no operation ${key} in the table`)
  return op
}
