import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'express'
import { BaseError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import type { Metrics } from '../core/metrics.js'
import type { Db } from '../db/client.js'
import type { Meter, MeterOutcome } from '../ledger/index.js'
import { statusOf } from './errorStatus.js'

/** The meter, timed: each call's latency to its answer, by operation and outcome. */
export function instrumentMeter(meter: Meter, metrics: Metrics): Meter {
  const timed =
    <P>(op: 'meter' | 'reserve', call: (p: P) => Promise<MeterOutcome>) =>
    async (p: P): Promise<MeterOutcome> => {
      const end = metrics.meterStepSeconds.startTimer({ op })
      try {
        const outcome = await call(p)
        end({ outcome: outcome.replayed ? 'replayed' : 'recorded' })
        return outcome
      } catch (error) {
        end({
          outcome: error instanceof BaseError && statusOf(error.code) < 500 ? 'refused' : 'failed',
        })
        throw error
      }
    }
  return {
    meter: timed('meter', meter.meter),
    reserve: timed('reserve', meter.reserve),
    close: () => meter.close(),
    stats: meter.stats,
  }
}

// A request id a client or proxy may pass in `X-Request-Id`; anything else is replaced.
const requestIdShape = /^[A-Za-z0-9._:-]{1,64}$/

/**
 * Every request: a request id (the caller's `X-Request-Id` when it is a plain token, else a new
 * one; echoed in the answer and in the log lines about it), its duration by method and status
 * class, each error envelope's code, and each idempotent replay.
 */
export function requestMetrics(metrics: Metrics, log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id')
    const requestId = given && requestIdShape.test(given) ? given : randomUUID()
    res.locals.requestId = requestId
    res.setHeader('X-Request-Id', requestId)
    const end = metrics.httpSeconds.startTimer({ method: methodLabel(req.method) })
    const json = res.json.bind(res)
    res.json = (body?: unknown) => {
      const code = (body as { error?: { code?: unknown } } | null)?.error?.code
      if (typeof code === 'string' && res.statusCode >= 400)
        metrics.refusals.inc({ code, status: String(res.statusCode) })
      return json(body)
    }
    res.on('finish', () => {
      const seconds = end({ status: `${Math.floor(res.statusCode / 100)}xx` })
      if (res.getHeader('Idempotent-Replayed') === 'true') metrics.idempotentReplays.inc()
      log.debug('request', {
        requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
      })
    })
    next()
  }
}

const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
const methodLabel = (m: string) => (methods.has(m) ? m : 'OTHER')

/**
 * Time to get a connection from `db`'s pool, measured when `/metrics` is scraped: near zero
 * while the pool has a free connection, the wait for one when every connection is busy.
 */
export function registerPoolProbe(metrics: Metrics, db: Db) {
  if (metrics.registry.getSingleMetric('tollgate_db_pool_wait_seconds')) return
  metrics.probe(
    'tollgate_db_pool_wait_seconds',
    'Seconds to get a connection from the pool, measured at scrape time',
    [],
    async () => {
      const started = process.hrtime.bigint()
      const connection = await db.$client.reserve()
      connection.release()
      return [{ value: Number(process.hrtime.bigint() - started) / 1e9 }]
    },
  )
}

/** `GET /metrics`: Prometheus text. */
export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    res.setHeader('Content-Type', metrics.contentType)
    res.send(await metrics.text())
  }
}
