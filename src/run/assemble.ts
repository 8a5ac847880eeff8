// Owns laying a function out as Lambda does, in a temp directory: opt/ (each of its layers' built
// zips extracted in the function's order, a later layer's file replacing an earlier one's), task/
// (the function package: the files `layers package` would zip) and an empty runtime/. Only built
// artifacts of the current lock are used; missing ones stop with the `layers build` command to run.
// ARN layers cannot be fetched without AWS and are left out with a warning.
import {chmod, copyFile, mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {Lockfile} from '../lock/types.js'
import type {Architecture, FunctionSpec, Manifest} from '../manifest/types.js'
import {findBuiltArtifact, functionLayers} from '../package/artifacts.js'
import {listFunctionFiles} from '../package/files.js'
import {extractZip} from '../package/zip-read.js'
import type {StateDatabase} from '../store/db.js'
import type {RunDirs} from './env.js'

export interface AssembledLayer {
  layer: string
  artifactKey: string
  zipPath: string
  codeSha256: string
  files: number
}

export interface Assembly {
  /** The temp directory holding opt/, task/ and runtime/. */
  root: string
  dirs: RunDirs
  layers: AssembledLayer[]
  /** ARN layers left out. */
  skipped: string[]
  functionFiles: number
  /** Removes the temp directory. */
  dispose(): Promise<void>
}

export interface AssembleOptions {
  architecture: Architecture
  db: StateDatabase
  stateDir: string
  emit: EmitEvent
}

export async function assembleFunction(manifest: Manifest, lock: Lockfile, fn: FunctionSpec, options: AssembleOptions): Promise<Assembly> {
  const layers = functionLayers(manifest, lock, fn, options.architecture)
  const built = await Promise.all(layers.map(async (layer) => ({layer, build: await findBuiltArtifact(manifest, layer, options.db, options.stateDir)})))
  const missing = built.filter(({layer, build}) => layer.spec.kind !== 'arn' && !build).map(({layer}) => layer)
  if (missing.length > 0) {
    const names = missing.map((layer) => layer.name)
    throw new UserInputError('ERR_LAYERS_LAYER_NOT_BUILT', `Function ${fn.key} needs layer${names.length === 1 ? '' : 's'} ${missing.map((layer) => `${layer.name} (${layer.artifactKey})`).join(', ')}, not built for the current lock and content.`, {
      hint: `Run \`layers build ${names.join(' ')}\` first; \`layers run\` uses the built artifacts.`,
      details: {function: fn.key, layers: names},
    })
  }
  const skipped = layers.filter((layer) => layer.spec.kind === 'arn').map((layer) => layer.name)
  for (const name of skipped) {
    options.emit({
      type: 'warning',
      warning: {severity: 'warning', code: 'ERR_LAYERS_RUN_ARN_LAYER', message: `Function ${fn.key}: layer ${name} is an ARN layer, which \`layers run\` cannot fetch; the function runs without it.`, hint: 'Replace it with an npm or dir layer to run it locally, or test that part on Lambda.'},
    })
  }
  const files = await listFunctionFiles(fn)
  const root = await mkdtemp(path.join(tmpdir(), 'layers-run-'))
  const dirs: RunDirs = {opt: path.join(root, 'opt'), task: path.join(root, 'task'), runtime: path.join(root, 'runtime')}
  try {
    await Promise.all([mkdir(dirs.opt), mkdir(dirs.task), mkdir(dirs.runtime)])
    const assembled: AssembledLayer[] = []
    for (const {layer, build} of built) {
      if (!build) continue
      options.emit({type: 'progress', phase: 'run', message: `extracting ${layer.name}`})
      assembled.push({layer: layer.name, artifactKey: build.artifactKey, zipPath: build.zipPath, codeSha256: build.codeSha256, files: await extractZip(build.zipPath, dirs.opt)})
    }
    for (const file of files) {
      const destination = path.join(dirs.task, ...file.rel.split('/'))
      await mkdir(path.dirname(destination), {recursive: true})
      await copyFile(file.source, destination)
      await chmod(destination, (file.mode & 0o111) === 0 ? 0o644 : 0o755)
    }
    return {root, dirs, layers: assembled, skipped, functionFiles: files.length, dispose: () => rm(root, {recursive: true, force: true, maxRetries: 3})}
  } catch (error) {
    await rm(root, {recursive: true, force: true, maxRetries: 3})
    throw error
  }
}
