import { ValidationError } from './errors.js'

/**
 * An amount in dollars as people type it: up to 9 whole digits and up to 6 decimals (the
 * micro-credit), no sign, no exponent, no thousands separator.
 */
export const USD_AMOUNT_PATTERN = /^\d{1,9}(\.\d{1,6})?$/

/**
 * Dollars → micro-credits, exactly: from the decimal string, never through a float.
 *
 * @example
 * microsOfUsd('12.5') // 12_500_000n
 */
export function microsOfUsd(text: string): bigint {
  if (!USD_AMOUNT_PATTERN.test(text))
    throw new ValidationError(`"${text}" is not an amount in dollars (up to 6 decimals)`)
  const [whole, frac = ''] = text.split('.')
  return BigInt(whole!) * 1_000_000n + BigInt(frac.padEnd(6, '0'))
}
