// State database rows damaged outside layers (a hand edit, a tool that wrote bad JSON): every JSON
// column is a cache or a record that may be missing, so a damaged row reads as absent, never as an
// internal error, and the next answer from Lambda or the next build replaces it.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {artifactTrees, recordArtifactTree} from '../../src/store/artifact-trees.js'
import {openStateDatabase} from '../../src/store/db.js'
import {functionVersionCache} from '../../src/store/function-versions.js'
import {layerVersionCache} from '../../src/store/layer-versions.js'

const dir = mkdtempSync(path.join(tmpdir(), 'layers-damaged-rows-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const A = '111111111111'
const LAYER_ARN = `arn:aws:lambda:eu-west-1:${A}:layer:deps:3`
const KEY = {accountId: A, region: 'eu-west-1', functionArn: `arn:aws:lambda:eu-west-1:${A}:function:api`, version: '42'}
const VERSION = {version: '42', runtime: 'nodejs24.x', architecture: 'arm64' as const, layers: [{arn: LAYER_ARN, codeSize: 4096}], codeSha256: 'c2hhMjU2'}
const TREE = {codeSha256: 'Y29kZQ==', layer: 'deps', artifactKey: 'arm64', packages: {'node_modules/ms': {name: 'ms', version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', integrity: 'sha512-x'}}}

describe('damaged state database rows', () => {
  it('read as absent and are replaced by the next answer', () => {
    const db = openStateDatabase(path.join(dir, '.layers'))
    const layers = layerVersionCache(db)
    const functions = functionVersionCache(db)
    layers.put(A, LAYER_ARN, {codeSha256: 'c2hh', codeSize: 1, compatibleRuntimes: ['nodejs24.x'], compatibleArchitectures: ['arm64']})
    functions.put([{key: KEY, aliasRevisions: ['r1'], version: VERSION}])
    recordArtifactTree(db, TREE)
    recordArtifactTree(db, {...TREE, codeSha256: 'b3RoZXI=', layer: 'other'})

    db.prepare(`UPDATE layer_versions SET runtimes = '{not json'`).run()
    db.prepare(`UPDATE function_versions SET layers = '[{"arn": 3}]'`).run()
    db.prepare(`UPDATE artifact_trees SET tree = 'null' WHERE layer = 'deps'`).run()

    expect(layers.get(A, LAYER_ARN)).toBeUndefined()
    expect(functions.get(KEY, ['r1'])).toBeUndefined()
    expect(artifactTrees(db).map((tree) => tree.layer)).toEqual(['other'])

    layers.put(A, LAYER_ARN, {codeSha256: 'c2hh', codeSize: 1, compatibleRuntimes: ['nodejs24.x'], compatibleArchitectures: ['arm64']})
    functions.put([{key: KEY, aliasRevisions: ['r1'], version: VERSION}])
    expect(layers.get(A, LAYER_ARN)?.compatibleRuntimes).toEqual(['nodejs24.x'])
    expect(functions.get(KEY, ['r1'])).toEqual(VERSION)
    db.close()
  })
})
