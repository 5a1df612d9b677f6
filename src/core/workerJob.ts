/** One periodic job of the worker (settlement, indexing, reservation expiry, ...). */
export type WorkerJob = {
  name: string
  /** Milliseconds between the end of one run and the start of the next. */
  everyMs: number
  run: (signal: AbortSignal) => Promise<void>
}
