import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** A gauge read when `/metrics` is scraped; an answer of `undefined` leaves it out. */
type Probe = () => Promise<Array<{ labels?: Record<string, string>; value: number }> | undefined>

/**
 * One process's metrics (Prometheus, through `prom-client`): a registry of its own, so several
 * apps in one process (tests, `tollgate dev`) never collide. Labels are bounded — error codes,
 * statuses, failure reasons, operations — never an org, key or subscription id.
 */
export type Metrics = {
  registry: Registry
  /** Actions per metering batch (one transaction each). */
  meterBatchSize: Histogram<never>
  /** Seconds from an action's arrival at the meter to its answer (its batch committed). */
  meterStepSeconds: Histogram<'op' | 'outcome'>
  /** Requests refused, by the envelope's stable code and the status. */
  refusals: Counter<'code' | 'status'>
  /** Answers that were a retry's first outcome (an `Idempotency-Key` seen before). */
  idempotentReplays: Counter<never>
  /** HTTP requests by method and status class, with their duration. */
  httpSeconds: Histogram<'method' | 'status'>
  /** Adds a gauge computed at scrape time; a probe that throws is counted and left out. */
  probe: (name: string, help: string, labelNames: string[], read: Probe) => void
  /** Prometheus text exposition of everything registered. */
  text: () => Promise<string>
  contentType: string
}

export type CreateMetricsParameters = {
  /** Also the process's own: CPU, memory, event loop lag, handles (once per process). */
  processMetrics?: boolean
}

/** A fresh set of Tollgate's metric families on a registry of its own. */
export function createMetrics(parameters: CreateMetricsParameters = {}): Metrics {
  const registry = new Registry()
  if (parameters.processMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const probeErrors = new Counter({
    name: 'tollgate_metrics_probe_errors_total',
    help: 'Gauges that could not be read at scrape time (the database or chain did not answer)',
    labelNames: ['gauge'],
    registers,
  })
  const probe: Metrics['probe'] = (name, help, labelNames, read) => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset()
        try {
          for (const { labels, value } of (await read()) ?? [])
            if (labels) this.set(labels, value)
            else this.set(value)
        } catch {
          probeErrors.inc({ gauge: name })
        }
      },
    })
  }
  return {
    registry,
    meterBatchSize: new Histogram({
      name: 'tollgate_meter_batch_size',
      help: 'Actions per metering batch (one PostgreSQL transaction each)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    meterStepSeconds: new Histogram({
      name: 'tollgate_meter_step_seconds',
      help: 'Seconds from an action reaching the meter to its answer, its batch committed',
      labelNames: ['op', 'outcome'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    refusals: new Counter({
      name: 'tollgate_refusals_total',
      help: 'Requests answered with an error envelope, by its code and status',
      labelNames: ['code', 'status'],
      registers,
    }),
    idempotentReplays: new Counter({
      name: 'tollgate_idempotent_replays_total',
      help: 'Answers that replayed the first outcome of an Idempotency-Key',
      registers,
    }),
    httpSeconds: new Histogram({
      name: 'tollgate_http_request_seconds',
      help: 'HTTP requests by method and status class',
      labelNames: ['method', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    probe,
    text: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
