import { BaseError } from '../core/errors.js'
import { InvalidTextError, isStorableText } from '../core/text.js'

/** The URL's path or query is not valid percent-encoded UTF-8. */
class MalformedUrlError extends BaseError {
  override name = 'MalformedUrlError'
  constructor(message = 'the URL is not valid percent-encoded UTF-8') {
    super(message, { code: 'MALFORMED_URL' })
  }
}

const decode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    throw new MalformedUrlError()
  }
}

/**
 * Express's query parser for the whole app, strict where Node's `querystring` is lenient:
 * malformed percent-encoding is a 400 `MALFORMED_URL` (not text silently left undecoded),
 * a value PostgreSQL cannot store is a 400 `INVALID_TEXT`, and names are taken literally —
 * `status[a]` is a parameter named `status[a]`, never an object. A repeated name gives an
 * array, for the route's schema to refuse. The result has no prototype: a parameter named
 * `__proto__` or `constructor` is just an unknown name.
 */
export function parseQueryString(
  query: string | null | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null)
  for (const part of (query ?? '').split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decode(eq === -1 ? part : part.slice(0, eq))
    const value = decode(eq === -1 ? '' : part.slice(eq + 1))
    if (!isStorableText(name) || !isStorableText(value))
      throw new InvalidTextError('a query parameter')
    const prior = out[name]
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value]
  }
  return out
}
