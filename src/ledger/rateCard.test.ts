import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { priceOf } from '../../test/support/priceOf.js'
import { ConfigError } from '../core/errors.js'
import {
  assertPriced,
  editAction,
  meteredActions,
  parseRateCard,
  type RateCard,
} from './rateCard.js'

const defaultCard: RateCard = parseRateCard(
  JSON.parse(readFileSync(new URL('./rates.default.json', import.meta.url), 'utf8')),
)

describe('the default rate card', () => {
  test('prices every tier as docs/design.md says, in micro-credits', () => {
    expect(defaultCard.tiers).toEqual({
      moat: 7_000n,
      work: 5_000n,
      bookkeeping: 3_000n,
      plumbing: 1_000n,
      subfloor: 100n,
    })
    expect(defaultCard.version).toMatch(/\S/)
  })

  test.each([
    ['next_issue', 7_000n],
    ['next_batch', 7_000n],
    ['claim_issue', 7_000n],
    ['add_relation', 7_000n],
    ['save_issue.create', 5_000n],
    ['save_issue.edit_body', 5_000n],
    ['checkpoint', 5_000n],
    ['save_comment', 5_000n],
    ['add_attachment', 5_000n],
    ['save_issue.edit_status', 3_000n],
    ['save_issue.edit_priority', 3_000n],
    ['save_issue.edit_title', 3_000n],
    ['add_label', 3_000n],
    ['remove_label', 3_000n],
    ['mint_session_key', 1_000n],
    ['release_issue', 1_000n],
    ['heartbeat', 100n],
  ])('%s costs %d', (action, price) => {
    expect(defaultCard.prices[action]).toBe(price)
  })

  test('prices every metered action, and no read', () => {
    expect(() => assertPriced(defaultCard, meteredActions)).not.toThrow()
    for (const read of ['get_issue', 'list_issues', 'whoami', 'queue_status', 'check_claim'])
      expect(defaultCard.prices[read]).toBeUndefined()
  })
})

describe('pricing rules', () => {
  test('a batch claim is priced per claimed item; an empty one is free', () => {
    expect(priceOf(defaultCard, 'next_batch', 4)).toBe(28_000n)
    expect(priceOf(defaultCard, 'next_batch', 0)).toBe(0n)
  })

  test('an edit is priced at the highest tier among the fields it touches', () => {
    expect(editAction(defaultCard, ['title'])).toBe('save_issue.edit_title')
    expect(editAction(defaultCard, ['status', 'body', 'priority'])).toBe('save_issue.edit_body')
    expect(editAction(defaultCard, ['priority', 'unknown'])).toBe('save_issue.edit_priority')
    expect(priceOf(defaultCard, editAction(defaultCard, ['title', 'body']))).toBe(5_000n)
  })
})

describe('configuration errors', () => {
  const card = {
    version: 'v2',
    tiers: { a: '12', b: 3 },
    actions: { save_comment: 'a', heartbeat: 'b' },
  }

  test('prices as strings or integers become bigint micro-credits', () => {
    expect(parseRateCard(card).prices).toEqual({ save_comment: 12n, heartbeat: 3n })
  })

  test.each([
    [{ ...card, version: '' }, 'version'],
    [{ ...card, tiers: { a: 1.5, b: 3 } }, 'tiers.a'],
    [{ ...card, tiers: { a: -1, b: 3 } }, 'tiers.a'],
    [{ ...card, tiers: { a: '0.5', b: 3 } }, 'tiers.a'],
    [{ ...card, actions: { save_comment: 'gold' } }, 'actions.save_comment: unknown tier "gold"'],
  ])('a bad card fails with the field named (%#)', (bad, field) => {
    expect(() => parseRateCard(bad)).toThrow(ConfigError)
    expect(() => parseRateCard(bad)).toThrow(field)
  })

  test('a metered action without a price fails start-up', () => {
    const error = (() => {
      try {
        assertPriced(parseRateCard(card), ['save_comment', 'claim_issue', 'heartbeat'])
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'rate card v2 has no price for: claim_issue',
      details: { missing: ['claim_issue'] },
    })
  })
})
