import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { closeDb, createDb, type Db } from '../../src/db/client.js'
import { migrateDb } from '../../src/db/migrate.js'

/**
 * A fresh, migrated database for one benchmark run on the server at `DATABASE_URL` (or the
 * machine's PostgreSQL), dropped afterwards so runs never see each other's rows.
 */
export async function benchDatabase(
  label: string,
  poolMax = 16,
): Promise<{ db: Db; url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const name = `tg_bench_${label}_${randomBytes(3).toString('hex')}`
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(base)
  url.pathname = `/${name}`
  const db = createDb({ url: url.toString(), max: poolMax })
  await migrateDb(db)
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await closeDb(db)
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      await admin.end()
    },
  }
}

/** p-th percentile of sorted milliseconds. */
export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
