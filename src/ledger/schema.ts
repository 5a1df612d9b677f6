// The ledger's tables, declared by idea in tables/ and gathered here: drizzle-kit reads every
// folder's `schema.ts` (drizzle.config.ts), and the ledger's modules import their tables from it.
export * from './tables/accountTables.js'
export * from './tables/chargeTables.js'
export * from './tables/entryTables.js'
export * from './tables/usageTables.js'
