import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { WRITE_FUNCTION, writeFunctionSql } from './meter.js'

describe(WRITE_FUNCTION, () => {
  test('the migration that creates it holds the statement the engine writes with, as it is now', () => {
    const migration = readFileSync(
      new URL('../db/migrations/0013_cached_batch_function.sql', import.meta.url),
      'utf8',
    )
    // The migration's own comment, then exactly what writeFunctionSql() generates.
    const sql = migration.slice(migration.indexOf('CREATE OR REPLACE FUNCTION'))
    expect(sql).toBe(writeFunctionSql())
    expect(sql).toContain('SET plan_cache_mode = force_generic_plan')
    expect(sql).toContain('tollgate_expect_fresh($31::uuid[], array_agg(org_id))')
  })
})
