// The Node.js versions layers supports are said in one place each for npm (package.json `engines`, and
// the root of package-lock.json as npm writes it), users (the README's Requirements) and CI (the majors
// .ci/run hands .ci/node-matrix.sh, besides the machine's own Node that `npm test` runs on), and every
// production dependency in the lock supports the lowest release of each supported major. An AWS SDK
// update that needs Node 22 (SDK releases after the first week of January 2027 do) fails here until
// engines, the README and CI drop Node 20 together.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import {describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8')
const pkg = JSON.parse(read('package.json')) as {engines: {node: string}}
const lock = JSON.parse(read('package-lock.json')) as {packages: Record<string, {dev?: boolean; optional?: boolean; engines?: {node?: string} | string[]}>}
const engines = pkg.engines.node
const range = new semver.Range(engines)
/** The lowest supported release of each supported major, in order. */
const floors = range.set.map((comparators) => semver.minVersion(new semver.Range(comparators.map((c) => c.value).join(' ')))!)
const majors = floors.map((floor) => floor.major)

describe('the supported Node.js versions', () => {
  it('are one range per major: 20, 22 and 24', () => {
    expect(majors).toEqual([20, 22, 24])
    for (const floor of floors) {
      expect(semver.satisfies(`${floor.major + 1}.0.0`, engines), `${engines} admits Node ${floor.major + 1}`).toBe(false)
    }
    expect(lock.packages['']!.engines).toEqual(pkg.engines)
  })

  it('are the ones the README states', () => {
    const requirements = read('README.md').split(/^## /m).find((section) => section.startsWith('Requirements'))
    expect(requirements, 'README.md has a "## Requirements" section').toBeDefined()
    expect(requirements).toContain(`\`${engines}\``)
    const versions = floors.map((floor) => `${floor.major}.${floor.minor}+`)
    expect(requirements).toContain(`Node.js ${versions.slice(0, -1).join(', ')} or ${versions.at(-1)} (`)
  })

  it('are the ones CI runs the suite on', () => {
    const call = read('.ci/run').match(/^bash \.ci\/node-matrix\.sh((?: \d+)+)$/m)
    expect(call, '.ci/run runs .ci/node-matrix.sh with the majors').not.toBeNull()
    const matrix = call![1]!.trim().split(' ').map(Number)
    // The lowest major is the CI machine's own Node, on which `npm test` runs the whole suite.
    expect([majors[0], ...matrix]).toEqual(majors)
    expect(read('.ci/node-matrix.sh')).toContain(`majors=(${matrix.join(' ')})`)
  })

  it('are supported by every production dependency in package-lock.json', () => {
    const unsupported: string[] = []
    for (const [where, entry] of Object.entries(lock.packages)) {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node
      if (!where || entry.dev || !wanted) continue
      for (const floor of floors) {
        if (!semver.satisfies(floor, wanted)) unsupported.push(`${where} (engines ${wanted}) does not support Node ${floor.version}`)
      }
    }
    expect(unsupported).toEqual([])
  })
})
