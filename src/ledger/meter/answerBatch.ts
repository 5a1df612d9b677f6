import type { Item, MeterStats, Result } from './types.js'

/**
 * Answers each item of `batch` with its result (a replay with its first outcome, marked
 * `replayed`), counting the batch when it `committed`.
 */
export function answerBatch(stats: MeterStats, batch: Item[], results: Result[], committed = true) {
  if (committed) {
    stats.batches++
    stats.actions += batch.length
  }
  const out = answers(results)
  batch.forEach((item, i) => {
    const r = out[i]!
    if (r instanceof Error) item.reject(r)
    else item.resolve(r)
  })
}

/** The outcomes to answer with, read once the writes are done (new usage ids come back with them). */
const answers = (results: Result[]) =>
  results.map((r) => ('replayOf' in r ? { ...r.replayOf, replayed: true } : r))
