import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  CHECK_FUNCTION,
  checkFunctionSql,
  WRITE_FUNCTION,
  writeFunctionSql,
} from './meter/batchSql.js'

const migrations = new URL('../db/migrations/', import.meta.url)

/** The text, from its CREATE on, of the latest migration that creates `name`. */
const latestCreating = (name: string) => {
  const creates = `CREATE OR REPLACE FUNCTION ${name}(`
  const latest = readdirSync(migrations)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(new URL(f, migrations), 'utf8'))
    .filter((sql) => sql.includes(creates))
    .at(-1)
  return latest?.slice(latest.indexOf(creates))
}

// A change to either statement needs a new migration that creates its function again (and
// drops the old one if its parameters changed): these fail until there is one.
describe('the metering engine’s functions, as the migrations create them', () => {
  test(`${WRITE_FUNCTION}: the latest migration that creates it holds the statement the engine writes with`, () => {
    const latest = latestCreating(WRITE_FUNCTION)
    expect(latest).toBe(writeFunctionSql())
    expect(latest).toContain('SET plan_cache_mode = force_generic_plan')
    expect(latest).toContain('tollgate_expect_fresh($39::uuid[], array_agg(org_id))')
  })

  test(`${CHECK_FUNCTION}: the latest migration that creates it holds the read the engine checks refusals with`, () => {
    const latest = latestCreating(CHECK_FUNCTION)
    expect(latest).toBe(checkFunctionSql())
    expect(latest).toContain('SET enable_seqscan = off')
  })
})
