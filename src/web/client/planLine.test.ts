import { describe, expect, test } from 'vitest'
import { type PlanJson, planText } from './planLine.js'

const money = (micros: string, usd: string) => ({ micros, usd })
const plan: PlanJson = {
  included_monthly: money('1000000', '$1.00'),
  used: money('400000', '$0.40'),
  remaining: money('600000', '$0.60'),
  window_start: '2026-12-01T00:00:00.000Z',
  renews_at: '2027-01-01T00:00:00.000Z',
  included_actions: {},
}

describe('the plan’s line', () => {
  test('micro-credits, then each action’s units; a plan of units only shows its units', () => {
    expect(planText(plan)).toBe('$0.40 of $1.00 used, renews 1 Jan')
    const units = { search: { included: 1000, used: 12, remaining: 988 } }
    expect(planText({ ...plan, included_actions: units })).toBe(
      '$0.40 of $1.00, search 12 of 1000 used, renews 1 Jan',
    )
    expect(planText({ ...plan, included_monthly: null, included_actions: units })).toBe(
      'search 12 of 1000 used, renews 1 Jan',
    )
  })
})
