import { microsOfUsd } from '../core/microsOfUsd.js'

/**
 * Dollars as given on the command line (`3`, `$2.50`, `0.000001`) → micro-credits, exactly.
 *
 * @example
 * usdArgument(' $2.50') // 2_500_000n
 */
export const usdArgument = (text: string): bigint => microsOfUsd(text.trim().replace(/^\$/, ''))
