import type { Request, RequestHandler } from 'express'
import { ipKeyGenerator, rateLimit } from 'express-rate-limit'
import { BaseError } from '../core/errors.js'

/** Too many requests from this key or client address. */
class RateLimitedError extends BaseError {
  override name = 'RateLimitedError'
  constructor(message = 'too many requests; slow down and retry') {
    super(message, { code: 'RATE_LIMITED' })
  }
}

export type RateLimits = {
  /** Requests per second per credential (requests without one share their address's budget). */
  perKeyPerSecond: number
  /** Successful sign-ups (`POST /v1/orgs`) per client address per hour. */
  signupsPerIpPerHour: number
}

export const defaultRateLimits: RateLimits = { perKeyPerSecond: 500, signupsPerIpPerHour: 10 }

const clientAddress = (req: Request) => ipKeyGenerator(req.ip ?? '0.0.0.0')

/** Per API key (what an agent holds): a burst budget per second. */
export function keyRateLimit(limits: RateLimits): RequestHandler {
  return rateLimit({
    windowMs: 1_000,
    limit: limits.perKeyPerSecond,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.get('authorization') ?? clientAddress(req),
    handler: (_req, _res, next) => next(new RateLimitedError()),
  })
}

/**
 * Per client address: at most `signupsPerIpPerHour` orgs an hour. Together with the per-owner
 * limit in `createOrg` this keeps the signup credit from being farmed with fresh wallets.
 * Failed sign-ups (bad input) do not count.
 */
export function signupRateLimit(limits: RateLimits): RequestHandler {
  return rateLimit({
    windowMs: 3_600_000,
    limit: limits.signupsPerIpPerHour,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skipFailedRequests: true,
    keyGenerator: clientAddress,
    handler: (_req, _res, next) =>
      next(new RateLimitedError('too many sign-ups from this address; try again in an hour')),
  })
}
