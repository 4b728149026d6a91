import { defineConfig } from 'vitest/config';

// Two suites: `unit` (core only, no services, milliseconds) and `api` (buildApp + inject, and
// concurrency tests, against a real PostgreSQL; each file in its own database cloned from a template).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'api',
          include: ['tests/api/**/*.test.ts', 'tests/concurrency/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
