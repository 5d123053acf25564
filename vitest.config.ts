import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and child processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // What tests and the servers they embed print (console.*) is shown for failing tests only, so
    // the summary is not buried; `npx vitest run --silent=false <file>` shows it for passing ones too.
    silent: 'passed-only',
  },
})
