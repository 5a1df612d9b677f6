import { describe, expect, expectTypeOf, test } from 'vitest'
import { type ErrorCode, errorCodes } from '../core/errorCodes.js'
import { BaseError } from '../core/errors.js'
import { createLogger } from '../core/log.js'
import { errorReply } from './errorHandler.js'
import { errorStatus } from './errorStatus.js'

const codes = Object.keys(errorCodes) as ErrorCode[]

describe('errorStatus', () => {
  test('every code in the union has exactly one HTTP error status, and nothing else is there', () => {
    // The compiler already refuses a missing code (`satisfies Record<ErrorCode, number>`).
    expectTypeOf<keyof typeof errorStatus>().toEqualTypeOf<ErrorCode>()
    const missing = codes.filter(
      (c) => !Number.isInteger((errorStatus as Record<string, unknown>)[c]),
    )
    expect(missing).toEqual([])
    expect(Object.keys(errorStatus).sort()).toEqual([...codes].sort())
    for (const c of codes)
      expect([c, errorStatus[c] >= 400 && errorStatus[c] < 600]).toEqual([c, true])
  })

  test('the error handler answers every code with its status from the table', () => {
    const log = createLogger('silent', {}, { destination: { write: () => undefined } })
    for (const code of codes) {
      const { status, body } = errorReply(new BaseError('no', { code }), log, {
        method: 'GET',
        path: '/v1/x',
      })
      expect([code, status, body.error.code]).toEqual([code, errorStatus[code], code])
    }
  })
})
