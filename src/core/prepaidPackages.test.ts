import { describe, expect, it } from 'vitest'
import { bonusFor, parsePrepaidPackages } from './prepaidPackages.js'

describe('parsePrepaidPackages', () => {
  it('reads "price:bonus,…" as exact micro-credits, sorted by price', () => {
    expect(parsePrepaidPackages('100:15,50:5.5')).toEqual([
      { price: 50_000_000n, bonus: 5_500_000n },
      { price: 100_000_000n, bonus: 15_000_000n },
    ])
    expect(parsePrepaidPackages('')).toEqual([])
  })

  it.each(['50', '50:5:1', '50:0', '0:5', '50:5,50:6', '50:-5', '5e1:5', '50:5,', ':5'])(
    'refuses %j',
    (text) => {
      expect(() => parsePrepaidPackages(text)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      )
    },
  )

  it('gives the bonus of the package whose price is the amount, else none', () => {
    const packages = parsePrepaidPackages('50:5')
    expect(bonusFor(packages, 50_000_000n)).toBe(5_000_000n)
    expect(bonusFor(packages, 50_000_001n)).toBe(0n)
  })
})
