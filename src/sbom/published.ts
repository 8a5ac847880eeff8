// Owns `layers sbom --published ARN|LAYER:VERSION`: the SBOM of a published layer version. First from
// this clone: the version's content (CodeSha256) from the publication history in .layers/state.db or
// lockfile.json's publications, and that content's tree kept in the state database (every built
// content's, so an old version still answers after the lock moved on), rendered as publish rendered
// it (src/sbom/content.ts). Otherwise from AWS: the version's description names its SBOM's SHA-256
// (one GetLayerVersion), and the document is read from the artifact bucket's content-addressed key
// and checked against that hash. Neither: an error naming the ARN.
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {parseLayerVersionArn} from '../audit/arn.js'
import {awsClientFactory, type AwsConnection} from '../aws/clients.js'
import {boundClients} from '../aws/identity.js'
import {layerPublishApi} from '../aws/lambda-layers.js'
import {OperationalError, UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {layerHistory} from '../history/store.js'
import {readLockfile} from '../lock/io.js'
import {artifactArchitectures, type Lockfile, type LockedOwnLayer} from '../lock/types.js'
import {bucketName} from '../manifest/bucket.js'
import {loadManifest} from '../manifest/load.js'
import {projectPaths} from '../project/paths.js'
import {describedSbom} from '../publish/plan.js'
import {artifactTrees} from '../store/artifact-trees.js'
import {openStateDatabase, type StateDatabase} from '../store/db.js'
import {contentSbom, sbomObjectKey} from './content.js'
import type {SbomDocument, SbomFormat} from './plan.js'

export interface PublishedSbomOptions extends AwsConnection {
  manifestPath: string
  /** A layer version ARN, or LAYER:VERSION of this project's publications. */
  published: string
  format: SbomFormat
  toolVersion: string
  emit: EmitEvent
}

/** Where a published version's SBOM came from. */
export type PublishedSource = {arn: string; codeSha256: string; source: 'state'} | {arn: string; codeSha256: string; source: 'bucket'; bucket: string; key: string}

export type PublishedSbomDocument = SbomDocument & {published: PublishedSource}

interface KnownPublication {
  arn: string
  layer: string
  version: number
  artifactKey: string
  codeSha256: string
}

const LAYER_VERSION = /^([A-Za-z0-9_-]{1,140}):([1-9]\d*)$/

export async function publishedSbom(options: PublishedSbomOptions): Promise<PublishedSbomDocument> {
  const paths = projectPaths(options.manifestPath)
  const asked = options.published.trim()
  const arnParts = parseLayerVersionArn(asked)
  const named = arnParts ? undefined : LAYER_VERSION.exec(asked)
  if (!arnParts && !named) {
    throw new UserInputError('ERR_LAYERS_SBOM_PUBLISHED', `--published takes a layer version ARN or LAYER:VERSION, got "${asked}".`, {hint: 'E.g. --published arn:aws:lambda:eu-west-1:111111111111:layer:common:3, or --published common:3.'})
  }
  const layer = arnParts ? arnParts.name : named![1]!
  const lock = await readLockfile(paths.lockfile)
  const db = existsSync(path.join(paths.stateDir, 'state.db')) ? openStateDatabase(paths.stateDir) : undefined
  try {
    const known = knownPublications(db, lock, layer).filter((entry) => (arnParts ? entry.arn === asked : entry.version === Number(named![2])))
    const contents = [...new Set(known.map((entry) => entry.codeSha256))]
    if (!arnParts && contents.length !== 1) {
      const what = `${layer} version ${named![2]}`
      throw new UserInputError(
        'ERR_LAYERS_SBOM_PUBLISHED',
        contents.length === 0 ? `No publication of ${what} is recorded in lockfile.json or .layers/state.db.` : `${what} names ${contents.length} contents in different accounts or regions: ${known.map((entry) => entry.arn).sort().join(', ')}.`,
        {hint: 'Pass the layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION).'},
      )
    }
    const arn = arnParts ? asked : known.map((entry) => entry.arn).sort()[0]!
    const local = db && known[0] ? fromState(db, lock, known[0], arn, options) : undefined
    if (local) return local
    return await fromBucket(arn, options, paths.manifest)
  } finally {
    db?.close()
  }
}

/** The layer's publications this clone knows: the history in the state database, then the lock's. */
function knownPublications(db: StateDatabase | undefined, lock: Lockfile | undefined, layer: string): KnownPublication[] {
  const known: KnownPublication[] = []
  if (db) for (const entry of layerHistory(db, layer).publications) known.push({arn: entry.arn, layer, version: entry.version, artifactKey: entry.artifact, codeSha256: entry.codeSha256})
  const locked = lock?.layers[layer]
  if (locked && locked.kind !== 'arn') {
    for (const regions of Object.values(locked.published ?? {})) {
      for (const byKey of Object.values(regions)) for (const [artifactKey, entry] of Object.entries(byKey)) known.push({arn: entry.arn, layer, version: entry.version, artifactKey, codeSha256: entry.codeSha256})
    }
  }
  return known
}

/** The document from the tree the state database kept for the version's content; undefined when it kept none (directory and runtime layers, another clone's build). */
function fromState(db: StateDatabase, lock: Lockfile | undefined, publication: KnownPublication, arn: string, options: PublishedSbomOptions): PublishedSbomDocument | undefined {
  const tree = artifactTrees(db).find((entry) => entry.codeSha256 === publication.codeSha256 && entry.layer === publication.layer)
  if (!tree) return undefined
  const locked = lock?.layers[tree.layer]
  const kind: LockedOwnLayer['kind'] = locked && locked.kind !== 'arn' ? locked.kind : tree.packages ? 'npm' : 'pip'
  const artifact = {architectures: artifactArchitectures(tree.artifactKey), ...(tree.packages ? {packages: tree.packages} : {}), ...(tree.wheels ? {wheels: tree.wheels} : {})}
  const document = contentSbom(tree.layer, {kind, artifacts: {[tree.artifactKey]: artifact}}, tree.artifactKey, tree.codeSha256, options.format, options.toolVersion)
  return {layer: document.layer, artifactKey: document.artifactKey, format: document.format, text: document.text, published: {arn, codeSha256: tree.codeSha256, source: 'state'}}
}

/** The document publish uploaded, found through the version's description (AWS: GetLayerVersion, then GetObject). */
async function fromBucket(arn: string, options: PublishedSbomOptions, manifestPath: string): Promise<PublishedSbomDocument> {
  const parts = parseLayerVersionArn(arn)!
  const notHere = `${arn}: .layers/state.db keeps no tree of its content`
  if (options.format !== 'cyclonedx') {
    throw new UserInputError('ERR_LAYERS_SBOM_PUBLISHED', `${notHere}, and the artifact bucket holds its SBOM as CycloneDX only.`, {hint: 'Drop --format spdx (or run it in the clone that built this content).'})
  }
  const manifest = await loadManifest(manifestPath)
  const account = Object.values(manifest.accounts).find((entry) => entry.id === parts.accountId)
  if (!account) {
    throw new UserInputError('ERR_LAYERS_SBOM_PUBLISHED', `${notHere}, and account ${parts.accountId} is not in ${manifestPath}: its bucket cannot be read.`, {hint: 'Add the account to the manifest (accounts:), or run this in the project that published the version.'})
  }
  const clients = boundClients(awsClientFactory({...options, manifestMaxRps: manifest.settings.maxRps}))
  const info = await layerPublishApi(await clients.lambda(account, parts.region)).readByArn(arn)
  if (!info) {
    throw new UserInputError('ERR_LAYERS_SBOM_PUBLISHED', `${notHere}, and ${arn} does not exist or account ${parts.accountId} (${account.name}) cannot read it in ${parts.region}.`, {hint: 'Check the ARN (`layers history LAYER` lists the versions published).'})
  }
  const sbomHex = describedSbom(info.description)
  if (!sbomHex) {
    throw new UserInputError('ERR_LAYERS_SBOM_PUBLISHED', `${notHere}, and its description names no SBOM (published before layers uploaded SBOMs, or not by layers publish).`, {
      hint: 'The clone that built this content can answer (its .layers/state.db keeps the tree); `layers sbom LAYER` describes the locked tree.',
    })
  }
  const bucket = bucketName(manifest.settings.bucket, {accountId: parts.accountId, region: parts.region})
  const key = sbomObjectKey(manifest.settings.prefix, parts.name, sbomHex)
  const store = (await import('../aws/s3-artifacts.js')).artifactStoreApi(await clients.s3(account, parts.region))
  const bytes = await store.readObject(bucket, key)
  if (!bytes) {
    throw new OperationalError('ERR_LAYERS_SBOM_MISSING', `The SBOM of ${arn} is not in s3://${bucket}/${key} (its description names it).`, {
      hint: 'It was deleted (a lifecycle rule, by hand) or settings.bucket / settings.prefix changed since the version was published.',
      details: {arn, bucket, key},
    })
  }
  if (createHash('sha256').update(bytes).digest('hex') !== sbomHex) {
    throw new OperationalError('ERR_LAYERS_SBOM_INTEGRITY', `s3://${bucket}/${key}, the SBOM of ${arn}, does not hash to the SHA-256 its name and the version's description give.`, {
      hint: 'The object was replaced after publish; do not trust it. Restore it from a bucket version, or describe the tree with `layers sbom` in the clone that built it.',
      details: {arn, bucket, key},
    })
  }
  const text = Buffer.from(bytes).toString('utf8')
  const component = (JSON.parse(text) as {metadata?: {component?: {properties?: Array<{name: string; value: string}>}}}).metadata?.component
  const artifactKey = component?.properties?.find((property) => property.name === 'layers:artifact')?.value ?? ''
  return {layer: parts.name, artifactKey, format: 'cyclonedx', text, published: {arn, codeSha256: info.codeSha256 ?? '', source: 'bucket', bucket, key}}
}
