import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  // Every folder declares its own tables in its `schema.ts`; the core ones are in db/coreSchema.ts.
  schema: ['./src/db/coreSchema.ts', './src/*/schema.ts'],
  out: './src/db/migrations',
})
