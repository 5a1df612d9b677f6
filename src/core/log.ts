import { type DestinationStream, pino } from 'pino'

/** The levels a logger runs at; it prints its own level and those above it. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export type Logger = {
  debug: (msg: string, fields?: Record<string, unknown>) => void
  info: (msg: string, fields?: Record<string, unknown>) => void
  warn: (msg: string, fields?: Record<string, unknown>) => void
  error: (msg: string, fields?: Record<string, unknown>) => void
  child: (fields: Record<string, unknown>) => Logger
}

const censor = '[redacted]'

// Field names whose value is a credential, compared lower-case without `_` or `-`: exactly
// these, or any name ending in one of the suffixes (`manageToken`, `clientSecret`, ...).
const secretNames = new Set(['key', 'authorization', 'cookie', 'setcookie', 'mnemonic', 'seed'])
const secretSuffixes = [
  'apikey',
  'privatekey',
  'operatorkey',
  'deployerkey',
  'secret',
  'password',
  'passwd',
  'token',
]

function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_]/g, '')
  return secretNames.has(n) || secretSuffixes.some((s) => n.endsWith(s))
}

// Credentials that travel inside text: a URL's password (`postgres://u:pw@h`), a signed
// query parameter (the manage link's `?t=`), an API or session key in an error message.
const urlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi
const signedParam = /([?&](?:t|token|sig|signature|key|api_key|apikey|access_token)=)[^&#\s"']+/gi
const bearerKey = /\btg_(live|sess)_[A-Za-z0-9_-]+/g

/** `text` with every credential it carries replaced by `[redacted]`. */
function redactText(text: string): string {
  if (!text.includes('://') && !text.includes('=') && !text.includes('tg_')) return text
  return text
    .replace(urlPassword, `$1${censor}@`)
    .replace(signedParam, `$1${censor}`)
    .replace(bearerKey, `tg_$1_${censor}`)
}

// A copy of a log field's value fit to print: secrets by name or by content replaced,
// bigints (micro-credits) as decimal strings, as JSON cannot carry them exactly.
function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value)
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object' || depth > 6) return value
  if (value instanceof Error) return clean({ name: value.name, message: value.message }, depth)
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value // Secret, Date
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value))
    out[k] = isSecretName(k) ? censor : clean(v, depth + 1)
  return out
}

const cleanFields = (fields: Record<string, unknown>) => clean(fields, 0) as Record<string, unknown>

export type CreateLoggerParameters = {
  /** Where the JSON lines go; stderr (written synchronously) unless given. */
  destination?: DestinationStream
}

/**
 * One JSON line per event on stderr, through pino: `{"level","t","msg",...fields}`. Fields and
 * messages are redacted on the way out — a credential's field name (`authorization`, `apiKey`,
 * `privateKey`, `password`, `*Token`, ...) or its shape in text (a URL's password, a signed
 * query parameter, a `tg_live_` key) prints `[redacted]`; `Secret` values redact themselves.
 *
 * @example
 * const log = createLogger('info', { process: 'worker' })
 * log.info('settled', { charges: 3, collectedMicros: 1_200_000n })
 */
export function createLogger(
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
  parameters: CreateLoggerParameters = {},
): Logger {
  const destination = parameters.destination ?? pino.destination({ fd: 2, sync: true })
  const root = pino(
    {
      level,
      base: null,
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: cleanFields,
      },
    },
    destination,
  )
  return wrap(Object.keys(base).length > 0 ? root.child(cleanFields(base)) : root)
}

const noop = () => {}

function wrap(p: pino.Logger): Logger {
  // The level is fixed for a logger's life, so a call below it is a no-op decided once here.
  const at = (lvl: 'debug' | 'info' | 'warn' | 'error'): Logger['info'] =>
    p.isLevelEnabled(lvl) ? (msg, fields) => p[lvl](fields ?? {}, redactText(msg)) : noop
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(cleanFields(fields))),
  }
}
