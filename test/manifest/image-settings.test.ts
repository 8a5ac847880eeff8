// A function's image: settings in the manifest (the base and ECR repository of `layers image` and
// `deploy --image`): loaded with an oci: base resolved from the manifest's directory; a repository that
// is not an ECR name and an unknown key are problems at their file:line:column.
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {inspectManifestText} from '../../src/manifest/load.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-image-settings-'))
mkdirSync(path.join(dir, 'fns', 'api'), {recursive: true})
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const FILE = path.join(dir, 'layers.yaml')
const manifest = (image: string): string => `version: 1
functions:
  api:
    source: fns/api
    handler: index.handler
    runtime: nodejs22.x
    image:
${image}
`

const problems = (image: string): Array<{code: string; at: string}> =>
  inspectManifestText(manifest(image), FILE).problems.map((problem) => ({code: problem.code, at: `${problem.location?.line}:${problem.location?.column}`}))

describe('functions.<name>.image', () => {
  it('loads the base (an oci: layout relative to the manifest) and the repository', () => {
    const {manifest: loaded, problems: found} = inspectManifestText(manifest('      base: oci:images/base\n      repository: acme/api'), FILE)
    expect(found).toEqual([])
    expect(loaded!.functions.api!.image).toEqual({base: `oci:${path.join(dir, 'images', 'base')}`, repository: 'acme/api'})
    const registry = inspectManifestText(manifest('      base: public.ecr.aws/lambda/nodejs:22'), FILE).manifest!
    expect(registry.functions.api!.image).toEqual({base: 'public.ecr.aws/lambda/nodejs:22'})
    expect(inspectManifestText(manifest('      {}'), FILE).manifest!.functions.api!.image).toEqual({})
  })

  it('refuses a repository that is not an ECR name and an unknown key, at their line and column', () => {
    expect(problems('      repository: Acme/API')).toEqual([{code: 'ERR_LAYERS_MANIFEST_INVALID_VALUE', at: '8:19'}])
    expect(problems('      tag: v1').map((problem) => problem.code)).toEqual(['ERR_LAYERS_MANIFEST_UNKNOWN_KEY'])
  })
})
