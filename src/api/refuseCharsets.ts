import type { RequestHandler } from 'express'
import { BaseError } from '../core/errors.js'

/** A request body in a character set the API does not read. */
class UnsupportedCharsetError extends BaseError {
  override name = 'UnsupportedCharsetError'
  constructor(charset: string) {
    super(`the body's charset "${charset}" is not read here; send UTF-8`, {
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { charset },
    })
  }
}

const charsetParameter = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i

/**
 * Refuses, as 415 `UNSUPPORTED_MEDIA_TYPE`, a body whose Content-Type names any charset but
 * UTF-8. body-parser decodes every `utf-*` iconv knows, UTF-7 and UTF-16 among them, so a body a
 * proxy or filter reads as one text could reach a route as another; the API speaks UTF-8 only.
 * A Content-Type without a charset is UTF-8 (JSON's own rule).
 */
export const refuseCharsets: RequestHandler = (req, _res, next) => {
  const type = req.headers['content-type']
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  const m = type && hasBody ? charsetParameter.exec(type) : null
  const charset = m ? (m[1] ?? m[2] ?? '') : 'utf-8'
  next(charset.toLowerCase() === 'utf-8' ? undefined : new UnsupportedCharsetError(charset))
}
