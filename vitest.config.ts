import {availableParallelism} from 'node:os'
import {configDefaults, defineConfig} from 'vitest/config'

// The fidelity tests against the real PyPI and npm registry (`*.pypi.test.ts`, `*.npmjs.test.ts`) take
// minutes of downloads: `npm test` leaves them out, `npm run test:network` runs only them (CI runs both).
const NETWORK = ['test/**/*.pypi.test.ts', 'test/**/*.npmjs.test.ts']
const networkOnly = process.env.LAYERS_NETWORK_TESTS === 'only'

export default defineConfig({
  test: {
    include: networkOnly ? NETWORK : ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: networkOnly ? configDefaults.exclude : [...configDefaults.exclude, ...NETWORK],
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
