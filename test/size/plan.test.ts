import {describe, expect, it} from 'vitest'
import type {ZipListing} from '../../src/package/zip-read.js'
import {layerPackages, sizeReport, type LayerListing} from '../../src/size/plan.js'

const entry = (path: string, size: number, compressedSize = Math.ceil(size / 2)): ZipListing => ({path, size, compressedSize, crc32: 0, mode: 0o100644, descriptor: true})

const sdk: LayerListing = {
  layer: 'deps',
  kind: 'npm',
  artifactKey: 'arm64+x86_64',
  zipBytes: 9000,
  versions: {'node_modules/@aws-sdk/client-s3': '3.700.0', 'node_modules/uuid': '9.0.1', 'node_modules/a/node_modules/uuid': '8.3.2'},
  entries: [
    entry('nodejs/node_modules/@aws-sdk/client-s3/package.json', 1000),
    entry('nodejs/node_modules/@aws-sdk/client-s3/dist/index.js', 5000),
    entry('nodejs/node_modules/uuid/index.js', 300),
    entry('nodejs/node_modules/a/index.js', 100),
    entry('nodejs/node_modules/a/node_modules/uuid/index.js', 200),
  ],
}
const other: LayerListing = {layer: 'tools', kind: 'npm', artifactKey: 'arm64', zipBytes: 500, versions: {'node_modules/uuid': '10.0.0'}, entries: [entry('nodejs/node_modules/uuid/index.js', 400)]}

describe('layers size plan', () => {
  it('groups a layer\'s files by their innermost package, with locked versions, biggest first', () => {
    expect(layerPackages(sdk).map((pkg) => [pkg.path, pkg.version, pkg.files, pkg.unzippedBytes])).toEqual([
      ['nodejs/node_modules/@aws-sdk/client-s3', '3.700.0', 2, 6000],
      ['nodejs/node_modules/uuid', '9.0.1', 1, 300],
      ['nodejs/node_modules/a/node_modules/uuid', '8.3.2', 1, 200],
      ['nodejs/node_modules/a', undefined, 1, 100],
    ])
  })

  it('groups Python layers by top-level package, module or extension, with dist-info counted with its distribution', () => {
    const python: LayerListing = {
      layer: 'py',
      kind: 'pip',
      entries: [
        entry('python/numpy/__init__.py', 10),
        entry('python/numpy/core/_multiarray.cpython-312-x86_64-linux-gnu.so', 1000),
        entry('python/numpy-2.1.0.dist-info/RECORD', 5),
        entry('python/six.py', 7),
        entry('python/_cffi_backend.cpython-312-x86_64-linux-gnu.so', 50),
      ],
    }
    expect(layerPackages(python).map((pkg) => [pkg.path, pkg.unzippedBytes])).toEqual([
      ['python/numpy', 1015],
      ['python/_cffi_backend', 50],
      ['python/six', 7],
    ])
  })

  it('per function: the total against the limit, the same folder from two layers (the later wins), and the runtime\'s own SDK with the exclude that leaves it out', () => {
    const report = sizeReport([], [{function: 'api', runtime: 'nodejs22.x', architecture: 'arm64', codeUnzippedBytes: 1000, layers: [sdk, other]}], {limitBytes: 262_144_000, top: 2})
    const fn = report.functions[0]!
    expect(fn.totalUnzippedBytes).toBe(1000 + 6600 + 400)
    expect(fn.shareOfLimit).toBeCloseTo(8000 / 262_144_000)
    expect(fn.biggest.map((pkg) => pkg.path)).toEqual(['nodejs/node_modules/@aws-sdk/client-s3', 'nodejs/node_modules/uuid'])
    expect(fn.duplicates).toEqual([
      {path: 'nodejs/node_modules/uuid', copies: [{layer: 'deps', path: 'nodejs/node_modules/uuid', version: '9.0.1', unzippedBytes: 300}, {layer: 'tools', path: 'nodejs/node_modules/uuid', version: '10.0.0', unzippedBytes: 400}], wins: 'tools', differ: true},
    ])
    expect(fn.runtimeProvided.map((item) => `${item.layer} ${item.package.name}`)).toEqual(['deps @aws-sdk/client-s3'])
    expect(fn.leaveOut).toEqual([{layer: 'deps', exclude: ['nodejs/node_modules/@aws-sdk/client-s3/**']}])
  })

  it('nodejs16.x does not provide the AWS SDK v3; an unbuilt layer makes the total unknown', () => {
    const report = sizeReport([{layer: 'deps', kind: 'npm'}], [{function: 'old', runtime: 'nodejs16.x', architecture: 'x86_64', codeUnzippedBytes: 10, layers: [sdk, {layer: 'later', kind: 'npm'}]}], {limitBytes: 100, top: 10})
    expect(report.functions[0]).toMatchObject({runtimeProvided: [], leaveOut: [], totalUnzippedBytes: null, shareOfLimit: null})
    expect(report.layers[0]).toMatchObject({built: false, unzippedBytes: null, zipBytes: null, packages: [], packageCount: 0})
  })
})
