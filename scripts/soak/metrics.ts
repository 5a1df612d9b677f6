import { tollgateMetricFamilies } from '../../test/support/metricFamilies.js'

/** The families the operations doc lists (docs/operations.md § Metrics), as the soak checks them. */
export const metricFamilies = [
  ...tollgateMetricFamilies,
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
]

/** The metric families (`# TYPE` lines) of every `/metrics` that answered; the others skipped. */
export async function scrapeFamilies(urls: string[]): Promise<Set<string>> {
  const families = new Set<string>()
  for (const url of urls) {
    const text = await fetch(url, { signal: AbortSignal.timeout(5000) })
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '')
    for (const m of text.matchAll(/^# TYPE (\S+) /gm)) families.add(m[1]!)
  }
  return families
}
