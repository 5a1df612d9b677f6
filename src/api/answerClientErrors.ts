import { maxHeaderSize, type Server, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../core/errorCodes.js'
import { statusOf } from './errorStatus.js'

/**
 * Answers what Node's HTTP parser refuses before express sees a request — headers over
 * `maxHeaderSize` (431), a request that is not HTTP (400), one too slow to arrive (408) — with
 * a complete response in the API's error envelope; Node's own answer has an empty body.
 * Returns `server`.
 */
export function answerClientErrors(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const [code, message]: [ErrorCode, string] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', `the request's headers are over ${maxHeaderSize} bytes`]
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['REQUEST_TIMEOUT', 'the request did not arrive in time']
          : ['BAD_REQUEST', 'the request is not valid HTTP/1.1']
    const status = statusOf(code)
    const body = JSON.stringify({ error: { code, message } })
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'X-Content-Type-Options: nosniff',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    )
  })
  return server
}
