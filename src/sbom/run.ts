// Owns `layers sbom`'s I/O: reads lockfile.json and the built contents' trees from the state database
// (read only; a project without one is answered from the lock alone), builds the documents with
// src/sbom/plan.ts and writes them: one to --output FILE or stdout, several into the --output directory
// (or, under --json, into the JSON result). With --published, the one document of a published version
// (src/sbom/published.ts).
import {existsSync, statSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import {writeFileAtomically} from '../fsutil/atomic.js'
import {readLockfile} from '../lock/io.js'
import {projectPaths} from '../project/paths.js'
import type {AwsConnection} from '../aws/clients.js'
import type {EmitEvent} from '../events.js'
import {artifactTrees} from '../store/artifact-trees.js'
import {openStateDatabase} from '../store/db.js'
import {renderSbom, sbomArtifacts, sbomFileName, type BuiltContent, type SbomDocument, type SbomFormat} from './plan.js'
import {publishedSbom, type PublishedSource} from './published.js'

export interface SbomOptions {
  manifestPath: string
  layers: string[]
  format: SbomFormat
  /** A file (one document) or a directory (several); absent: stdout, which takes one document. */
  output?: string
  toolVersion: string
  /** --json: the documents go into the JSON result when not written to files, so stdout may take several. */
  json: boolean
  /** --published ARN|LAYER:VERSION (then `layers` is empty), and how to reach AWS when this clone does not have its tree. */
  published?: {ref: string; connection: AwsConnection; emit: EmitEvent}
}

export interface SbomResult {
  documents: Array<SbomDocument & {published?: PublishedSource}>
  /** The files written, in the order of the documents; empty when they go to stdout. */
  files: string[]
}

export async function buildSboms(options: SbomOptions): Promise<SbomDocument[]> {
  const paths = projectPaths(options.manifestPath)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist: there is nothing to describe.`, {hint: 'Run `layers lock` first, or pass --manifest for another project.'})
  }
  let built: BuiltContent[] = []
  if (existsSync(path.join(paths.stateDir, 'state.db'))) {
    const db = openStateDatabase(paths.stateDir)
    try {
      built = artifactTrees(db)
    } finally {
      db.close()
    }
  }
  return sbomArtifacts({lock, layers: options.layers, built}).map((artifact) => renderSbom(artifact, options.format, options.toolVersion))
}

export async function writeSboms(options: SbomOptions): Promise<SbomResult> {
  const {published} = options
  const documents = published
    ? [await publishedSbom({...published.connection, manifestPath: options.manifestPath, published: published.ref, format: options.format, toolVersion: options.toolVersion, emit: published.emit})]
    : await buildSboms(options)
  if (documents.length === 0) {
    throw new UserInputError('ERR_LAYERS_SBOM_EMPTY', `lockfile.json holds no artifact of ${options.layers.length > 0 ? options.layers.join(', ') : 'any own layer'}.`, {hint: 'Run `layers lock` after declaring npm, pip, dir or runtime layers in the manifest.'})
  }
  if (options.output === undefined) {
    if (documents.length > 1 && !options.json) {
      throw new UserInputError('ERR_LAYERS_SBOM_OUTPUT', `${documents.length} artifacts to describe (${documents.map((document) => `${document.layer} ${document.artifactKey}`).join(', ')}) and stdout takes one document.`, {
        hint: 'Name one layer with one artifact, or pass --output DIR to write one file per artifact.',
      })
    }
    return {documents, files: []}
  }
  const asDirectory = documents.length > 1 || (existsSync(options.output) && statSync(options.output).isDirectory())
  if (!asDirectory) {
    await writeFileAtomically(options.output, documents[0]!.text)
    return {documents, files: [options.output]}
  }
  await mkdir(options.output, {recursive: true})
  const files = documents.map((document) => path.join(options.output!, sbomFileName(document)))
  for (const [index, document] of documents.entries()) await writeFileAtomically(files[index]!, document.text)
  return {documents, files}
}
