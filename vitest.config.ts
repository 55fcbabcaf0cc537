// Test runner configuration: unit tests run in parallel; integration and e2e tests
// talk to the real local Kafka and Redis started by scripts/services.sh.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
