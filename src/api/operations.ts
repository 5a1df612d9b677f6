import { accountOperations } from './operations/accountOperations.js'
import { billingOperations } from './operations/billingOperations.js'
import type { Operation } from './operations/operation.js'
import { queueOperations } from './operations/queueOperations.js'
import { walletOperations } from './operations/walletOperations.js'
import { x402Operations } from './operations/x402Operations.js'

export { errorsOf, type Operation, operationKey } from './operations/operation.js'

/**
 * Every operation of the HTTP API: the source of `/openapi.json` and of the API's fuzz test. In
 * the order the fuzz test's seed expects; each idea's operations live in `operations/`.
 */
export const operations: Operation[] = [
  ...accountOperations,
  ...billingOperations,
  ...walletOperations,
  ...queueOperations,
  ...x402Operations,
]
