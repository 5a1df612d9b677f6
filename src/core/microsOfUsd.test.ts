import { describe, expect, it } from 'vitest'
import { microsOfUsd } from './microsOfUsd.js'

describe('microsOfUsd', () => {
  it('reads dollars as exact micro-credits', () => {
    expect(microsOfUsd('12.5')).toBe(12_500_000n)
    expect(microsOfUsd('0.000001')).toBe(1n)
    expect(microsOfUsd('999999999.999999')).toBe(999_999_999_999_999n)
    expect(microsOfUsd('3')).toBe(3_000_000n)
  })

  it.each(['', '1.', '.5', '-1', '1e3', '0.0000001', '1,000', ' 1', '$1', '1234567890'])(
    'refuses %j',
    (text) => {
      expect(() => microsOfUsd(text)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      )
    },
  )
})
