/**
 * The reliability suite (test/reliability): kill -9 cycles, hostile input,
 * storage faults and load against a spawned server. Files run one at a time:
 * they measure restart times, latency and memory, and two cores shared with
 * another scenario would make those figures meaningless.
 */
import { defineConfig } from 'vitest/config';

const LONG = process.env.RELIABILITY_LONG === '1';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    setupFiles: ['test/helpers/remove-temp-dirs.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: LONG ? 40 * 60_000 : 5 * 60_000,
    hookTimeout: 60_000,
    // The figures each scenario prints are the point of the run: show them.
    silent: false,
    reporters: ['default', ['json', { outputFile: 'test-results/reliability.json' }]],
  },
});
