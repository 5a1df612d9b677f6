import type { Item } from './types.js'

export type CreateBatcherParameters = {
  /** Most actions in one transaction. */
  maxBatch: number
  /** Transactions in flight at once. */
  concurrency: number
  /** Fewest queued actions for which a further transaction starts while one is in flight. */
  parallelFrom: number
  /** Runs one batch to its end (answering its callers). */
  run: (batch: Item[]) => Promise<void>
  /** Answers a batch whose `run` threw. */
  fail: (batch: Item[], error: unknown) => void
}

export type Batcher = {
  /** Queues an item; it goes in the next batch that has room for its org. */
  push: (item: Item) => void
  /** Resolves once nothing is queued or in flight. */
  idle: () => Promise<void>
}

/**
 * The engine's group commit: queued items are taken into batches, at most `concurrency` in
 * flight, each org in one batch at a time.
 *
 * @example
 * const batcher = createBatcher({ maxBatch: 256, concurrency: 2, parallelFrom: 32, run, fail })
 * batcher.push(item)
 */
export function createBatcher({
  maxBatch,
  concurrency,
  parallelFrom,
  run,
  fail,
}: CreateBatcherParameters): Batcher {
  const queue: Item[] = []
  let inFlight = 0
  const idle: Array<() => void> = []

  // Orgs in a batch that is in flight. A second batch for the same org would only wait on
  // its row lock, so its actions stay queued and ride in the next batch instead: a hot org
  // gets one large batch at a time, spread orgs get batches in parallel.
  const busy = new Set<string>()
  // Up to `orgLimit` orgs' actions (all of each one's queued actions, to `maxBatch`).
  const takeBatch = (orgLimit: number): Item[] => {
    const batch: Item[] = []
    const rest: Item[] = []
    const taken = new Set<string>()
    for (const item of queue) {
      const org = item.p.orgId
      if (batch.length < maxBatch && !busy.has(org) && (taken.has(org) || taken.size < orgLimit)) {
        taken.add(org)
        batch.push(item)
      } else rest.push(item)
    }
    if (batch.length === 0) return batch
    queue.length = 0
    queue.push(...rest)
    return batch
  }
  // What is queued is shared evenly among the free transaction slots, so the batches in flight
  // are of a size and take turns: one is in PostgreSQL while this process decides the other.
  // (A hot org's actions stay together: a second batch for it would only wait on its lock.)
  // Fewer than `parallelFrom` queued go as one transaction, or wait for the one in flight: a
  // second small transaction would cost more CPU than the wait saves (`npm run bench:step`).
  const pump = () => {
    const parallel = queue.length >= parallelFrom
    while (inFlight < concurrency && queue.length > 0) {
      if (inFlight > 0 && !parallel) return
      const batch = takeBatch(
        parallel ? Math.ceil(queue.length / (concurrency - inFlight)) : queue.length,
      )
      if (batch.length === 0) return
      const orgs = new Set(batch.map((i) => i.p.orgId))
      for (const o of orgs) busy.add(o)
      inFlight++
      void run(batch)
        .catch((error: unknown) => fail(batch, error))
        .finally(() => {
          for (const o of orgs) busy.delete(o)
          inFlight--
          if (queue.length > 0) pump()
          else if (inFlight === 0) for (const f of idle.splice(0)) f()
        })
    }
  }
  // Callers arrive in bursts (a committed batch answers many, and each calls again at once):
  // the queue is taken after the burst, not by its first caller alone.
  let pumpScheduled = false
  const schedulePump = () => {
    if (pumpScheduled) return
    pumpScheduled = true
    setImmediate(() => {
      pumpScheduled = false
      pump()
    })
  }

  return {
    push: (item) => {
      queue.push(item)
      schedulePump()
    },
    idle: async () => {
      if (inFlight > 0 || queue.length > 0) await new Promise<void>((done) => idle.push(done))
    },
  }
}
