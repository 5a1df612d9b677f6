import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { WRITE_FUNCTION, writeFunctionSql } from './meter.js'

const migrations = new URL('../db/migrations/', import.meta.url)

describe(WRITE_FUNCTION, () => {
  test('the latest migration that creates it holds the statement the engine writes with, as it is now', () => {
    // A change to the batch write needs a new migration that creates the function again (and
    // drops the old one if its parameters changed): this fails until there is one.
    const creates = `CREATE OR REPLACE FUNCTION ${WRITE_FUNCTION}(`
    const latest = readdirSync(migrations)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => readFileSync(new URL(f, migrations), 'utf8'))
      .filter((sql) => sql.includes(creates))
      .at(-1)
    expect(latest).toBeDefined()
    expect(latest!.slice(latest!.indexOf(creates))).toBe(writeFunctionSql())
    expect(latest).toContain('SET plan_cache_mode = force_generic_plan')
    expect(latest).toContain('tollgate_expect_fresh($31::uuid[], array_agg(org_id))')
  })
})
