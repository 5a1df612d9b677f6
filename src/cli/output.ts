/** Exit codes every command uses: 0 ok, 1 failure or difference found, 2 bad usage or config. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const

const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)

/** Stable JSON for scripts: bigint as decimal strings, one document per command. */
export function printJson(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, replacer, 2)}\n`)
}

/** Aligned label/value lines for people. */
export function printFields(fields: Array<[string, string]>) {
  const width = Math.max(...fields.map(([k]) => k.length))
  for (const [k, v] of fields) process.stdout.write(`${k.padEnd(width)}  ${v}\n`)
}

/** An aligned table for people; numbers are right-aligned when the column says so. */
export function printTable(headers: string[], rows: string[][], right: number[] = []) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  process.stdout.write(`${line(headers)}\n`)
  for (const r of rows) process.stdout.write(`${line(r)}\n`)
}
