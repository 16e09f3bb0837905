import { defineConfig } from 'vitest/config';

/**
 * The pure tests alone: no database template is built (no globalSetup), so they run anywhere in
 * seconds. Mutation testing runs on this config.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    maxWorkers: 2,
  },
});
