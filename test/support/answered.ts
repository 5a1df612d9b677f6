import { statusOf } from '../../src/api/errorStatus.js'
import { BaseError } from '../../src/core/errors.js'

/**
 * A thrown error beside the HTTP status the API answers it with. Domain errors carry only a
 * code; a test that pins a refusal's status asks the error handler's table, as the handler
 * does. Anything that is not a `BaseError` comes back as it is.
 *
 * @example
 * expect(answered(error)).toMatchObject({ code: 'METERING_FAILED', status: 500 })
 */
export function answered(error: unknown): unknown {
  return error instanceof BaseError
    ? { ...error, message: error.message, status: statusOf(error.code) }
    : error
}

/** `promise`, its rejection `answered`. */
export const answeredRejection = <T>(promise: Promise<T>): Promise<T> =>
  promise.catch((error: unknown) => {
    throw answered(error)
  })
