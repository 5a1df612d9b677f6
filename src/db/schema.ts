// Every domain owns its tables in its own `schema.ts`; this file gathers them for drizzle.
export * from './coreSchema.js'
export * from '../ledger/schema.js'
export * from '../settlement/schema.js'
export * from '../subscriptions/schema.js'
export * from '../api/schema.js'
export * from '../queue/schema.js'
export * from '../web/schema.js'
