import { closeDb, createDb } from '../../src/db/client.js'
import { createMeter } from '../../src/ledger/index.js'
import { config } from '../ledger/helpers.js'

/**
 * `count` "API nodes" on the test database, each a meter over its own pool of three, so their
 * batches really race; `close` closes every meter, then its pool.
 *
 * @example
 * const { nodes, close } = meterNodes(databaseUrl, 4)
 */
export function meterNodes(databaseUrl: string, count: number) {
  const nodes = Array.from({ length: count }, () => {
    const nodeDb = createDb({ url: databaseUrl, max: 3 })
    return {
      nodeDb,
      meter: createMeter(nodeDb, { rateCard: config.rateCard, product: config.product }),
    }
  })
  const close = async () => {
    for (const n of nodes) {
      await n.meter.close()
      await closeDb(n.nodeDb)
    }
  }
  return { nodes, close }
}
