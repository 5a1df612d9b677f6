/** Levels in order; a logger prints its level and everything above it. */
const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const
export type LogLevel = keyof typeof levels

export type Logger = {
  debug: (msg: string, fields?: Record<string, unknown>) => void
  info: (msg: string, fields?: Record<string, unknown>) => void
  warn: (msg: string, fields?: Record<string, unknown>) => void
  error: (msg: string, fields?: Record<string, unknown>) => void
  child: (fields: Record<string, unknown>) => Logger
}

// bigint is not JSON; secrets serialize themselves as "[redacted]" (see config/secret.ts).
const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)

/** One JSON line per event on stderr; fields never carry secrets (they redact themselves). */
export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}): Logger {
  const min = levels[level]
  const emit = (
    lvl: Exclude<LogLevel, 'silent'>,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (levels[lvl] < min) return
    const line = { t: new Date().toISOString(), level: lvl, msg, ...base, ...fields }
    process.stderr.write(`${JSON.stringify(line, replacer)}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  }
}
