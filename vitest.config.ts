import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The replay suite runs ~12,000 events; give slow CI machines room.
    testTimeout: 120_000,
    pool: 'forks',
  },
});
