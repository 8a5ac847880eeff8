// settings.state (team state on S3): defaults, a valid block, and each bad value as a located
// manifest error: an unknown key, a lease outside 5..3600 s, a non-boolean remote, an invalid bucket
// name, and a bucket template that names one bucket for several accounts or regions.
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {inspectManifestText} from '../../src/manifest/load.js'

const FILE = path.join('/project', 'layers.yaml')

function manifest(state: string, regions = '[eu-west-1, us-east-1]'): string {
  return `version: 1
settings:
  bucket: "layers-{accountId}-{region}"
${state}
accounts:
  dev:
    id: "111111111111"
    regions: ${regions}
  prod:
    id: "222222222222"
    regions: [eu-west-1]
layers:
  ext:
    arn: arn:aws:lambda:eu-west-1:999999999999:layer:ext:1
`
}

function problems(state: string, regions?: string) {
  return inspectManifestText(manifest(state, regions), FILE).problems.map((problem) => ({code: problem.code, message: problem.message, at: `${problem.location?.line}:${problem.location?.column}`}))
}

describe('settings.state', () => {
  it('defaults to remote state in the artifact bucket with 60 s leases', () => {
    const {manifest: loaded, problems: found} = inspectManifestText(manifest(''), FILE)
    expect(found).toEqual([])
    expect(loaded!.settings.state).toEqual({remote: true, leaseSeconds: 60})
  })

  it('takes a state bucket template, remote: false and a lease duration', () => {
    const {manifest: loaded, problems: found} = inspectManifestText(manifest('  state:\n    bucket: "team-state-{accountId}-{region}"\n    remote: false\n    leaseSeconds: 30'), FILE)
    expect(found).toEqual([])
    expect(loaded!.settings.state).toEqual({bucket: 'team-state-{accountId}-{region}', remote: false, leaseSeconds: 30})
  })

  it('reports bad values where they are', () => {
    expect(problems('  state:\n    leaseSeconds: 2')).toEqual([expect.objectContaining({at: '5:19', message: expect.stringContaining('settings.state.leaseSeconds')})])
    expect(problems('  state:\n    remote: "no"')).toEqual([expect.objectContaining({at: '5:13', message: expect.stringContaining('settings.state.remote')})])
    expect(problems('  state:\n    bucket: Team_State')).toEqual([expect.objectContaining({at: '5:13', message: expect.stringContaining('settings.state.bucket')})])
    expect(problems('  state:\n    lease: 30')).toEqual([expect.objectContaining({code: 'ERR_LAYERS_MANIFEST_UNKNOWN_KEY', at: '5:5'})])
  })

  it('refuses a state bucket template that names one bucket for several accounts or regions', () => {
    expect(problems('  state:\n    bucket: "team-state-{accountId}"')).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_STATE_BUCKET_SHARED', at: '5:13', message: 'settings.state.bucket names the same bucket team-state-111111111111 for dev/eu-west-1 and dev/us-east-1.'},
    ])
    expect(problems('  state:\n    bucket: "team-state-{region}"', '[eu-west-1]')).toEqual([
      {code: 'ERR_LAYERS_MANIFEST_STATE_BUCKET_SHARED', at: '5:13', message: 'settings.state.bucket names the same bucket team-state-eu-west-1 for dev/eu-west-1 and prod/eu-west-1.'},
    ])
    expect(problems('  state:\n    bucket: "team-state-{accountId}-{region}"')).toEqual([])
  })
})
