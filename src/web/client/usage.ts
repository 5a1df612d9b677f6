// The usage card on the dashboard and the manage page: spend per day in the period against the
// monthly limit (uPlot, bundled from node_modules), the cap drawn down, usage by action and tier
// and by API key — all from `GET /v1/billing/usage`'s JSON.
import uPlot from 'uplot'
import { tierWords } from './tierWords.js'
import { $, amount, fillTable, longDay, shortDay, usd } from './ui.js'

type Money = { micros: string; usd: string } | null
type Totals = { calls: number; quantity: number; billable: Money; voucher: Money; total: Money }
/** The part of `GET /v1/billing/usage`'s answer the card draws. */
export type UsageView = {
  period: { kind: string; from: string; to: string }
  window: { start: string | null; end: string | null; monthly_limit: Money; spent: Money }
  cap: { lifetime_cap: Money; drawn: Money; remaining: Money; booked: Money; accrued: Money }
  totals: Totals
  days: ({ day: string } & Totals)[]
  by_action: ({ action: string; tier: string } & Totals)[]
  by_key: ({ key_id: string | null; prefix: string | null; label: string | null } & Totals)[]
}

let chart: uPlot | undefined
// The chart is drawn at its box's width and follows it (a phone turned, a window narrowed);
// the box clips (style.css), so a chart not yet redrawn never widens the page.
let watched: HTMLElement | undefined
function followWidth(el: HTMLElement) {
  if (watched === el) return
  watched = el
  new ResizeObserver(() => {
    if (chart) chart.setSize({ width: Math.max(240, el.clientWidth), height: 220 })
  }).observe(el)
}

const DAY = 86_400
const micros = (m: Money) => BigInt(m?.micros ?? '0')
// Chart coordinates only: positions on screen, never amounts anyone is charged or shown.
const plotDollars = (m: bigint) => Number(m) / 1e6

/** Draws `u` into the elements under the given ids' prefix (`#usage-summary`, `#usage-chart`, …). */
export function renderUsage(u: UsageView) {
  const limit = u.window.monthly_limit ? micros(u.window.monthly_limit) : null
  const spent = micros(u.totals.total)
  const summary = $('#usage-summary')
  summary.replaceChildren(
    `${u.totals.calls} paid calls from ${longDay(new Date(`${u.period.from}T00:00:00Z`))} to ${longDay(new Date(`${u.period.to}T00:00:00Z`))}: `,
    amount(spent),
    ' used',
    ...(u.totals.voucher && micros(u.totals.voucher) > 0n
      ? [' (', amount(micros(u.totals.voucher)), ' of it from the signup credit)']
      : []),
    '. ',
    ...(limit !== null
      ? [
          'This window: ',
          amount(micros(u.window.spent)),
          ' of the ',
          amount(limit),
          ' monthly limit. ',
        ]
      : ['No monthly limit. ']),
    ...(u.cap.lifetime_cap && micros(u.cap.lifetime_cap) > 0n
      ? [
          'Cap: ',
          amount(micros(u.cap.drawn)),
          ' collected of ',
          amount(micros(u.cap.lifetime_cap)),
          '.',
        ]
      : []),
  )
  // Cumulative spend per day, against the monthly limit when there is one.
  const xs: number[] = []
  const daily: (number | null)[] = []
  const cumulative: (number | null)[] = []
  let sum = 0n
  for (const d of u.days) {
    const t = micros(d.total)
    sum += t
    xs.push(Date.parse(`${d.day}T00:00:00Z`) / 1000)
    daily.push(plotDollars(t))
    cumulative.push(plotDollars(sum))
  }
  // The current window is drawn whole, its days still to come empty, so the spend so far reads
  // against the limit for the rest of the window.
  const periodStart = Date.parse(`${u.period.from}T00:00:00Z`) / 1000
  let periodEnd = Date.parse(`${u.period.to}T00:00:00Z`) / 1000 + DAY
  if (u.period.kind === 'window' && u.window.end) {
    const windowEnd = Math.ceil(Date.parse(u.window.end) / 1000 / DAY) * DAY
    for (let t = periodEnd; t < windowEnd; t += DAY) {
      xs.push(t)
      daily.push(null)
      cumulative.push(null)
    }
    periodEnd = Math.max(periodEnd, windowEnd)
  }
  const el = $('#usage-chart')
  el.setAttribute(
    'aria-label',
    `Spend per day: ${usd(sum)} in ${u.days.length} days${limit !== null ? ` against a ${usd(limit)} monthly limit` : ''}`,
  )
  const series: uPlot.Series[] = [
    {},
    {
      label: 'Per day ($)',
      stroke: '#1d4ed8',
      fill: 'rgba(29,78,216,.15)',
      paths: uPlot.paths.bars?.({ size: [0.6, 40] }),
    },
    { label: 'Running total ($)', stroke: '#067647', width: 2 },
  ]
  const data: uPlot.AlignedData = [xs, daily, cumulative]
  if (limit !== null) {
    series.push({ label: 'Monthly limit ($)', stroke: '#b42318', dash: [6, 4], width: 1.5 })
    data.push(xs.map(() => plotDollars(limit)))
  }
  chart?.destroy()
  el.replaceChildren()
  followWidth(el)
  const width = Math.max(240, el.clientWidth || 600)
  chart = new uPlot(
    {
      width,
      height: 220,
      series,
      axes: [
        // Whole days in the viewer's locale: usage is counted per UTC day, never per hour.
        {
          incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY],
          values: (_u, vals) => vals.map((v) => shortDay(new Date(v * 1000))),
        },
        { values: (_u, vals) => vals.map((v) => `$${v}`) },
      ],
      scales: {
        // The whole period, even when only some days have usage; money from $0 up.
        x: { time: true, range: [periodStart, periodEnd] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      legend: { show: true, live: false },
    },
    data,
    el,
  )
  fillTable(
    '#by-action',
    u.by_action.map((a) => [a.action, tierWords(a.tier), String(a.calls), amount(micros(a.total))]),
    'No usage in this period.',
    4,
  )
  fillTable(
    '#by-key',
    u.by_key.map((k) => [
      k.prefix ? `${k.label ?? 'key'} (${k.prefix}…)` : (k.label ?? 'unknown key'),
      String(k.calls),
      amount(micros(k.total)),
    ]),
    'No usage in this period.',
    3,
  )
}
