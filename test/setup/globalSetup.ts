import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { closeDb, createDb } from '../../src/db/client.js'
import { migrateDb } from '../../src/db/migrate.js'
import { databaseUrl, startTestPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string
    pgTemplate: string
    runId: string
  }
}

/**
 * Once per run: find PostgreSQL, build a migrated template database, and hand its name to
 * the workers, which each clone their own database from it (cloning a template is much
 * faster than migrating). Names carry a run id so parallel runs on one server never collide,
 * and everything this run created is dropped at the end.
 */
export default async function setup(project: TestProject) {
  const pg = await startTestPostgres()
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const template = `tg_tpl_${runId}`
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${template}"`)
  const db = createDb({ url: databaseUrl(pg.adminUrl, template), max: 2 })
  await migrateDb(db)
  await closeDb(db)
  project.provide('pgAdminUrl', pg.adminUrl)
  project.provide('pgTemplate', template)
  project.provide('runId', runId)

  return async () => {
    const rows = await admin`select datname from pg_database where datname like ${`tg_%${runId}%`}`
    for (const { datname } of rows) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`)
    }
    await admin.end()
    await pg.stop()
  }
}
