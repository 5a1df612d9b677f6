import { createServer, type Server } from 'node:http'
import type { AppContext } from '../api/context.js'
import { registerPoolProbe } from '../api/metrics.js'
import type { Metrics } from '../core/metrics.js'
import { readOutboxGauges } from '../notifications/outboxGauges.js'
import { readSettlementGauges } from '../settlement/settlementGauges.js'

/**
 * The worker's gauges, read when `/metrics` is scraped: settlement lag (oldest accrued, oldest
 * booked), batch gas, failed pulls by reason, the chain's head against the indexer's block, the
 * operator's ETH, the notification backlog and its age, and the wait for a pooled connection.
 */
export function registerWorkerMetrics(ctx: AppContext, metrics: Metrics) {
  registerPoolProbe(metrics, ctx.db)
  let outbox: ReturnType<typeof readOutboxGauges> | undefined
  const deliveries = () => {
    outbox ??= readOutboxGauges(ctx.db).finally(() =>
      setTimeout(() => {
        outbox = undefined
      }, 500),
    )
    return outbox
  }
  metrics.probe(
    'tollgate_outbox_backlog',
    'Notifications waiting: events not yet fanned out, webhook deliveries pending, mails unsent',
    ['queue'],
    async () => (await deliveries()).map((q) => ({ labels: { queue: q.queue }, value: q.backlog })),
  )
  metrics.probe(
    'tollgate_outbox_oldest_seconds',
    'Age of the oldest waiting item of each notification queue (0: none)',
    ['queue'],
    async () =>
      (await deliveries()).map((q) => ({ labels: { queue: q.queue }, value: q.oldestSeconds })),
  )
  const chain = ctx.chain
  if (!chain) return
  // One read of the database serves every settlement gauge of a scrape.
  let pending: ReturnType<typeof readSettlementGauges> | undefined
  const gauges = () => {
    pending ??= readSettlementGauges(ctx.db, chain.chainId).finally(() =>
      setTimeout(() => {
        pending = undefined
      }, 500),
    )
    return pending
  }
  metrics.probe(
    'tollgate_settlement_oldest_accrued_seconds',
    'Age of the oldest usage not yet booked into a charge (0: none)',
    [],
    async () => [{ value: (await gauges()).oldestAccruedSeconds }],
  )
  metrics.probe(
    'tollgate_settlement_oldest_booked_seconds',
    'Age of the oldest charge booked or sent and not yet collected (0: none)',
    [],
    async () => [{ value: (await gauges()).oldestBookedSeconds }],
  )
  metrics.probe(
    'tollgate_settlement_batch_gas',
    'Gas used by collection batches: the last one, and the mean and most over the last hour',
    ['stat'],
    async () => {
      const g = (await gauges()).batchGas
      return g
        ? [
            { labels: { stat: 'last' }, value: g.last },
            { labels: { stat: 'mean_1h' }, value: g.meanHour },
            { labels: { stat: 'max_1h' }, value: g.maxHour },
          ]
        : undefined
    },
  )
  metrics.probe(
    'tollgate_failed_pulls',
    'Pulls the collector refused (ChargeFailed events indexed), by reason',
    ['reason'],
    async () =>
      (await gauges()).failedPulls.map((f) => ({ labels: { reason: f.reason }, value: f.count })),
  )
  metrics.probe(
    'tollgate_chain_block',
    'The chain head, and the last block the indexer read',
    ['which'],
    async () => {
      const [head, g] = await Promise.all([chain.reader.getBlockNumber(), gauges()])
      return [
        { labels: { which: 'head' }, value: Number(head) },
        ...(g.indexedBlock === undefined
          ? []
          : [{ labels: { which: 'indexed' }, value: g.indexedBlock }]),
      ]
    },
  )
  const operator = chain.operator
  if (operator)
    metrics.probe(
      'tollgate_operator_eth',
      "The operator key's ETH balance, in ETH (gas for every transaction it sends)",
      [],
      async () => {
        const wei = await chain.reader.getBalance({ address: operator.account.address })
        return [{ value: Number(wei) / 1e18 }]
      },
    )
}

/** A small HTTP listener for a process with no API: `GET /metrics`, and 404 otherwise. */
export async function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    )
  })
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => ok())
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  return {
    url: `http://${host}:${bound}/metrics`,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  }
}
