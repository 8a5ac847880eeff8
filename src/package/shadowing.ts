// Owns shadowing: for one function, every package or file that more than one place provides, in the
// order Lambda lays them down and the copy that wins. Lambda's rules: layers are extracted into /opt
// in the function's order and a later layer's file replaces an earlier one at the same path; Node.js
// looks in /opt/nodejs/nodeNN/node_modules (NN = the runtime's major; other nodeNN folders are never
// read) before /opt/nodejs/node_modules (the runtime's NODE_PATH); a package in the function's own
// `node_modules` would be found before both, but `layers package` never ships `node_modules`, so that
// copy is only what local tools load, and the layer's copy is what runs. Copies that differ in
// version, or whose native binaries (ELF) are built for different machines, are errors; other
// duplicates are reported. `layers size` shares the grouping (shadowedPlaces). Pure: data in, data out.
import type {Problem} from '../errors/index.js'

/** Where a top-level folder or file of a layer is loaded from, in the function's Lambda. */
interface Place {
  /** Same key, same thing to Node.js or the file system (`node:uuid`, `path:bin/tool`). */
  key: string
  name: string
  /** Higher is found first (nodeNN over the plain node_modules); the function's unshipped copy is lowest. */
  rank: number
}

const NODE_FOLDER = /^nodejs\/(?:node(\d+)\/)?node_modules\/((?:@[^/]+\/)?[^/]+)$/

/** The Node.js major of a `nodejsNN.x` runtime (undefined for other runtimes: no nodeNN folder is read). */
function nodeMajor(runtime: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime)
  return match ? Number(match[1]) : undefined
}

/** The place of a layer folder or file path; undefined when Lambda never reads it (another runtime's nodeNN). */
function placeOf(itemPath: string, major: number | undefined): Place | undefined {
  const node = NODE_FOLDER.exec(itemPath)
  if (node) {
    if (node[1] !== undefined && Number(node[1]) !== major) return undefined
    return {key: `node:${node[2]}`, name: node[2]!, rank: node[1] === undefined ? 1 : 2}
  }
  if (/^nodejs\/node\d+\//.test(itemPath) && !itemPath.startsWith(`nodejs/node${major}/`)) return undefined
  return {key: `path:${itemPath}`, name: itemPath, rank: 1}
}

export interface PlacedCopies<T> {
  name: string
  /** From the copy found last to the one that wins (the last). */
  copies: Array<T & {layer: string}>
}

/** Every item of `layers` by the place it is loaded from, its copies in the order they lose (the last wins). */
function placedCopies<T extends {path: string}>(runtime: string, layers: ReadonlyArray<{layer: string; items: readonly T[]}>): Map<string, PlacedCopies<T>> {
  const major = nodeMajor(runtime)
  const byKey = new Map<string, {name: string; copies: Array<{copy: T & {layer: string}; rank: number; order: number}>}>()
  let order = 0
  for (const {layer, items} of layers) {
    for (const item of items) {
      const place = placeOf(item.path, major)
      if (!place) continue
      let group = byKey.get(place.key)
      if (!group) byKey.set(place.key, (group = {name: place.name, copies: []}))
      group.copies.push({copy: {...item, layer}, rank: place.rank, order: order++})
    }
  }
  return new Map([...byKey].map(([key, group]) => [key, {name: group.name, copies: group.copies.sort((a, b) => a.rank - b.rank || a.order - b.order).map((entry) => entry.copy)}]))
}

function byName(a: {name: string}, b: {name: string}): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * The packages and files that more than one copy provides to a function on `runtime`, by name:
 * `layers` holds, in the function's layer order, each layer's items by /opt path (a package folder
 * or a file).
 */
export function shadowedPlaces<T extends {path: string}>(runtime: string, layers: ReadonlyArray<{layer: string; items: readonly T[]}>): Array<PlacedCopies<T>> {
  return [...placedCopies(runtime, layers).values()].filter((group) => group.copies.length > 1).sort(byName)
}

/** A file of a built layer zip, with the machine of its ELF header when it is a native binary. */
export interface ShadowFile {
  path: string
  size: number
  crc32: number
  architecture?: string
}

export interface LayerContent {
  layer: string
  /** The built zip's files; empty for an npm layer known from the lock only (its packages are `versions`). */
  files: readonly ShadowFile[]
  /** Package folder (`nodejs/node_modules/uuid`) -> the version in its package.json (or the lock). */
  versions: Readonly<Record<string, string>>
}

/** A package in the function's own `node_modules` (in its source; never packaged). */
export interface OwnPackage {
  name: string
  version?: string
  /** Its folder, relative to the manifest's directory. */
  path: string
}

export interface ShadowInput {
  function: string
  runtime: string
  /** The function's layers in its order (built ones only: the others cannot be read). */
  layers: readonly LayerContent[]
  own: readonly OwnPackage[]
}

export interface ShadowCopy {
  /** The layer that provides it; absent for the function's own copy. */
  layer?: string
  /** Path in /opt for a layer's copy, in the function's source for its own. */
  path: string
  version?: string
  /** Machines its native binaries are built for (sorted); absent when it has none. */
  architectures?: string[]
}

export type ShadowKind = 'duplicate' | 'version' | 'architecture'

export interface ShadowFinding {
  function: string
  /** A package (a node_modules or python/ top-level folder) or another file of /opt. */
  what: 'package' | 'file'
  name: string
  kind: ShadowKind
  /** From the copy found last to the one loaded. */
  copies: ShadowCopy[]
  winner: ShadowCopy
  /** Every copy is the same: the same files and bytes (layers), or the same version (the function's own). */
  same: boolean
}

/** The machine an ELF header names (e_machine, in the header's byte order); undefined for anything else. */
export function elfArchitecture(head: Uint8Array): string | undefined {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined
  const machine = head[5] === 2 ? (head[18]! << 8) | head[19]! : head[18]! | (head[19]! << 8)
  return ELF_MACHINES[machine] ?? `e_machine ${machine}`
}

const ELF_MACHINES: Record<number, string> = {0x03: 'x86', 0x28: 'arm', 0x3e: 'x86_64', 0xb7: 'arm64'}

/** Bytes of a file an ELF header check needs (e_machine ends at offset 20). */
export const ELF_HEAD_BYTES = 20

/** Whether a layer file may be a native binary worth reading the header of. */
export function maybeNative(entryPath: string, mode: number): boolean {
  return /\.node$|\.so(?:\.\d+)*$/.test(entryPath) || (mode & 0o111) !== 0
}

const LAYER_FOLDER = /^(?:nodejs\/(?:node\d+\/)?node_modules\/(?:@[^/]+\/)?[^/]+|python\/(?:lib\/python\d+\.\d+\/site-packages\/)?[^/]+)(?=\/)/

/** The package folder (top-level node_modules or python/ folder) a layer file belongs to; undefined for other files. */
export function layerFolderOf(entryPath: string): string | undefined {
  return LAYER_FOLDER.exec(entryPath)?.[0]
}

interface Item {
  path: string
  what: 'package' | 'file'
  version?: string
  /** Relative path, size and CRC of each file (layers), for `same`. */
  fingerprint?: string
  architectures?: string[]
}

/** A layer's packages (top-level node_modules and python/ folders) and its other files, by /opt path. */
function layerItems(content: LayerContent): Item[] {
  const folders = new Map<string, ShadowFile[]>()
  const items: Item[] = []
  for (const file of content.files) {
    const folder = layerFolderOf(file.path)
    if (folder) folders.set(folder, [...(folders.get(folder) ?? []), file])
    else items.push({path: file.path, what: 'file', fingerprint: `${file.size}:${file.crc32}`, ...architecturesOf([file])})
  }
  for (const [folder, files] of folders) {
    const version = content.versions[folder]
    const fingerprint = files.map((file) => `${file.path.slice(folder.length)}:${file.size}:${file.crc32}`).sort().join('\n')
    items.push({path: folder, what: 'package', ...(version ? {version} : {}), fingerprint, ...architecturesOf(files)})
  }
  // Packages known by version only (an npm layer not built yet): their files are unknown.
  for (const [folder, version] of Object.entries(content.versions)) if (!folders.has(folder) && layerFolderOf(`${folder}/`) === folder) items.push({path: folder, what: 'package', version})
  return items
}

function architecturesOf(files: readonly ShadowFile[]): {architectures?: string[]} {
  const found = [...new Set(files.flatMap((file) => (file.architecture ? [file.architecture] : [])))].sort()
  return found.length > 0 ? {architectures: found} : {}
}

function kindOf(copies: readonly Item[]): ShadowKind {
  const architectures = new Set(copies.flatMap((copy) => (copy.architectures ? [copy.architectures.join('+')] : [])))
  if (architectures.size > 1) return 'architecture'
  const versions = new Set(copies.flatMap((copy) => (copy.version ? [copy.version] : [])))
  return versions.size > 1 ? 'version' : 'duplicate'
}

/** Copies are the same when their files are; when some files are unknown (the function's own copy, a layer not built), when every version is known and equal. */
function sameCopies(copies: readonly Item[]): boolean {
  if (copies.every((copy) => copy.fingerprint !== undefined)) return new Set(copies.map((copy) => copy.fingerprint)).size === 1
  return copies.every((copy) => copy.version !== undefined) && new Set(copies.map((copy) => copy.version)).size === 1
}

function toCopy(item: Item & {layer: string}): ShadowCopy {
  return {...(item.layer === '' ? {} : {layer: item.layer}), path: item.path, ...(item.version ? {version: item.version} : {}), ...(item.architectures ? {architectures: item.architectures} : {})}
}

/** Every package or file of the function provided more than once, by name. */
export function shadowFindings(input: ShadowInput): ShadowFinding[] {
  const placed = placedCopies(
    input.runtime,
    input.layers.map((content) => ({layer: content.layer, items: layerItems(content)})),
  )
  // The function's own copy of a package the layers provide: found by nothing on Lambda (never
  // packaged), so it comes first and loses; for Node.js runtimes only.
  if (nodeMajor(input.runtime) !== undefined) {
    for (const pkg of input.own) {
      const group = placed.get(`node:${pkg.name}`)
      if (group) group.copies.unshift({path: pkg.path, what: 'package', ...(pkg.version ? {version: pkg.version} : {}), layer: ''})
    }
  }
  return [...placed.values()]
    .filter((group) => group.copies.length > 1)
    .sort(byName)
    .map(({name, copies}) => {
      const shown = copies.map(toCopy)
      return {function: input.function, what: copies.at(-1)!.what, name, kind: kindOf(copies), copies: shown, winner: shown.at(-1)!, same: sameCopies(copies)}
    })
}

function describeCopy(finding: ShadowFinding, copy: ShadowCopy): string {
  const label = finding.what === 'package' ? `${finding.name}${copy.version ? `@${copy.version}` : ''}` : `/opt/${finding.name}`
  const where = copy.layer === undefined ? `the function's own node_modules (${copy.path}, never packaged)` : finding.what === 'package' ? `layer ${copy.layer} (/opt/${copy.path})` : `layer ${copy.layer}`
  return `${label} from ${where}${copy.architectures ? ` built for ${copy.architectures.join(' and ')}` : ''}`
}

/** The `exclude` glob that leaves a layer's copy out of it. */
function excludeOf(finding: ShadowFinding, copy: ShadowCopy): string {
  return finding.what === 'package' ? `${copy.path}/**` : copy.path
}

const CODES: Record<ShadowKind, Problem['code']> = {duplicate: 'ERR_LAYERS_SHADOWED', version: 'ERR_LAYERS_SHADOWED_VERSION', architecture: 'ERR_LAYERS_SHADOWED_ARCHITECTURE'}

/**
 * The problem a finding is for a function running on `architecture`: an error when the copies differ
 * in version or in the machine of their native binaries, a warning when they differ otherwise, none
 * when every copy is the same.
 */
export function shadowProblem(finding: ShadowFinding, architecture: string): Problem | undefined {
  if (finding.kind === 'duplicate' && finding.same) return undefined
  const {winner} = finding
  const losers = finding.copies.slice(0, -1)
  const subject = finding.what === 'package' ? `package ${finding.name}` : `file /opt/${finding.name}`
  const how = {duplicate: 'with different content', version: 'in different versions', architecture: 'with native binaries for different machines'}[finding.kind]
  const message = `Function ${finding.function}: ${subject} is provided ${finding.copies.length} times ${how}; Lambda loads ${describeCopy(finding, winner)}, which shadows ${losers.map((copy) => describeCopy(finding, copy)).join(' and ')}.`
  const ownCopy = losers.find((copy) => copy.layer === undefined)
  const layerLosers = losers.filter((copy) => copy.layer !== undefined)
  const fixes: string[] = []
  if (finding.kind === 'architecture') {
    const wrong = finding.copies.filter((copy) => copy.layer !== undefined && copy.architectures && !copy.architectures.includes(architecture))
    fixes.push(`The function runs on ${architecture}: build every copy for ${architecture} (the layer's \`architectures\`, then \`layers lock\` and \`layers build\`)`)
    if (wrong.length > 0) fixes.push(`or leave the ${wrong.map((copy) => `copy out of layer ${copy.layer} (exclude: ["${excludeOf(finding, copy)}"])`).join(' and the ')}`)
  } else {
    if (layerLosers.length > 0) {
      fixes.push(`${finding.kind === 'version' ? `Give the layers one version of ${finding.name} (the same range in each, then \`layers lock\`), or leave` : 'Leave'} the shadowed copy out of ${layerLosers.map((copy) => `layer ${copy.layer} (exclude: ["${excludeOf(finding, copy)}"])`).join(' and ')}`)
    }
    if (ownCopy) fixes.push(`${layerLosers.length > 0 ? 'and install' : 'Install'} the version Lambda loads in the function (\`npm install ${finding.name}${winner.version ? `@${winner.version}` : ''}\` in its source) or remove ${ownCopy.path}, so that local runs use what Lambda runs`)
  }
  return {severity: finding.kind === 'duplicate' ? 'warning' : 'error', code: CODES[finding.kind], message, hint: `${fixes.join(', ')}.`}
}
