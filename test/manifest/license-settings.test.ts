// settings.licenses in the manifest: loaded as given; an entry that is not one SPDX licence (an
// unknown id, an AND / OR expression) is a problem at its file:line:column, with spdx-correct's
// suggestion; the schema refuses unknown keys and non-strings.
import {describe, expect, it} from 'vitest'
import {inspectManifestText} from '../../src/manifest/load.js'

const FILE = '/p/layers.yaml'
const manifest = (licenses: string): string => `version: 1
settings:
  licenses:
${licenses}
layers:
  deps:
    npm:
      ms: ^2.1.3
`

const problems = (licenses: string): Array<{code: string; message: string; hint?: string; at: string}> =>
  inspectManifestText(manifest(licenses), FILE).problems.map((problem) => ({code: problem.code, message: problem.message, ...(problem.hint ? {hint: problem.hint} : {}), at: `${problem.location?.line}:${problem.location?.column}`}))

describe('settings.licenses', () => {
  it('loads allow and deny as given', () => {
    const {manifest: loaded, problems: found} = inspectManifestText(manifest('    allow: [MIT, Apache-2.0, UNLICENSED]\n    deny: [GPL-3.0-only]'), FILE)
    expect(found).toEqual([])
    expect(loaded!.settings.licenses).toEqual({allow: ['MIT', 'Apache-2.0', 'UNLICENSED'], deny: ['GPL-3.0-only']})
  })

  it('reports an unknown id with a suggestion and an expression, each at its line and column', () => {
    expect(problems('    allow:\n      - MIT\n      - Apache2\n    deny: [MIT OR ISC]')).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_LICENSE_ID', message: 'settings.licenses.allow[1] "Apache2" is not an SPDX licence identifier. Did you mean "Apache-2.0"?', hint: expect.stringContaining('e.g. Apache-2.0'), at: '6:9'},
      {code: 'ERR_LAYERS_MANIFEST_LICENSE_ID', message: expect.stringContaining('settings.licenses.deny[0] "MIT OR ISC" is an AND / OR expression'), hint: expect.any(String), at: '7:12'},
    ])
  })

  it('leaves unknown keys and non-strings to the schema', () => {
    expect(problems('    permit: [MIT]').map((problem) => problem.code)).toEqual(['ERR_LAYERS_MANIFEST_UNKNOWN_KEY'])
    expect(problems('    deny: [1]').map((problem) => problem.code)).toEqual(['ERR_LAYERS_MANIFEST_WRONG_TYPE'])
  })
})
