import {availableParallelism} from 'node:os'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: on a 2-core CI machine that runs the files one
    // at a time while most e2e tests wait on a spawned CLI, so a core sits idle. One worker per CPU.
    maxWorkers: Math.max(2, availableParallelism()),
    minWorkers: 1,
    reporters: ['default'],
  },
})
