import {availableParallelism} from 'node:os'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: on a 2-core CI machine that ran the files one
    // at a time while most e2e tests wait on a spawned CLI or a simulated latency, a core idle. One
    // worker more than the CPUs keeps both busy: the suite went from 656 s to 418 s here (2 cores).
    maxWorkers: availableParallelism() + 1,
    minWorkers: 1,
    reporters: ['default'],
  },
})
