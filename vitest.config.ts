import { defineConfig } from 'vitest/config'

// Tests live beside their modules (src/**/x.test.ts), in property-tests/ and lab/.
// Real-peer tests start their own processes, so they get generous timeouts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'property-tests/**/*.test.ts', 'lab/**/*.test.ts', 'captures/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
