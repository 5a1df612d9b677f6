import { defineConfig } from 'vitest/config'

// Two projects: `unit` (pure logic, beside the code) and `integration` (real PostgreSQL,
// real anvil, Chromium). Integration files are named *.integration.test.ts or *.e2e.test.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/*.e2e.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['**/*.integration.test.ts', '**/*.e2e.test.ts'],
          exclude: ['node_modules/**'],
          globalSetup: ['test/setup/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // expect.poll's 1 s default is a page's round trip on a loaded two-core machine;
          // a poll that can succeed should not fail for load alone.
          expect: { poll: { timeout: 15_000 } },
          maxWorkers: 2,
        },
      },
    ],
  },
})
