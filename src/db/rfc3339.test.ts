import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { rfc3339 } from './rfc3339.js'

describe('rfc3339', () => {
  test("PostgreSQL's timestamptz text, Dates and nulls", () => {
    expect(rfc3339('2026-12-02 11:48:54.478246+00')).toBe('2026-12-02T11:48:54.478246+00:00')
    expect(rfc3339('2026-12-02 11:48:54+05:30')).toBe('2026-12-02T11:48:54+05:30')
    expect(rfc3339('2026-12-02 11:48:54-08')).toBe('2026-12-02T11:48:54-08:00')
    expect(rfc3339(new Date('2026-12-02T11:48:54.478Z'))).toBe('2026-12-02T11:48:54.478Z')
    expect(rfc3339(null)).toBeNull()
    for (const v of ['2026-12-02 11:48:54.478246+00', '2026-12-02 00:00:00-08'])
      expect(z.iso.datetime({ offset: true }).safeParse(rfc3339(v)).success).toBe(true)
    expect(new Date(rfc3339('2026-12-02 11:48:54.478246+00')).toISOString()).toBe(
      '2026-12-02T11:48:54.478Z',
    )
  })
})
