// Owns the SBOM of each layer artifact, from plain data: which artifacts `layers sbom` documents, the
// neutral model of one artifact (every installed package with its purl, hashes from the lock's SRI
// integrity, its licence as locked, its dependency edges resolved from its path as Node.js does, and the content's
// CodeSha256 when built or published), and that model as CycloneDX 1.5 JSON (through
// @cyclonedx/cyclonedx-library's model and serializer) or SPDX 2.3 JSON. Output is deterministic: lists
// sorted, no clock time, and the serial number / document namespace a UUID derived from the content.
import {createHash} from 'node:crypto'
import {Enums, Models, Serialize, Spec} from '@cyclonedx/cyclonedx-library'
import {UserInputError} from '../errors/index.js'
import {resolveFrom} from '../find/plan.js'
import {NOASSERTION, spdxExpression} from '../licenses/policy.js'
import {canonicalJson} from '../lock/serialize.js'
import {entryNamed} from '../manifest/select.js'
import {withoutLicenses, type ArtifactKey, type LockedArtifact, type LockedOwnLayer, type Lockfile} from '../lock/types.js'

export const SBOM_FORMATS = ['cyclonedx', 'spdx'] as const
export type SbomFormat = (typeof SBOM_FORMATS)[number]

/** A content the state database saw built: its CodeSha256 and the tree the lock held for it. */
export interface BuiltContent {
  layer: string
  artifactKey: ArtifactKey
  codeSha256: string
  packages?: LockedArtifact['packages']
  wheels?: LockedArtifact['wheels']
}

export interface SbomInputs {
  lock: Lockfile
  /** Layer names asked for; empty: every own layer of the lock. */
  layers: string[]
  built: BuiltContent[]
}

export interface SbomHash {
  /** CycloneDX algorithm names: `SHA-512`, `SHA-384`, `SHA-256`, `SHA-1`. */
  algorithm: 'SHA-512' | 'SHA-384' | 'SHA-256' | 'SHA-1'
  hex: string
}

export interface SbomComponent {
  /** Unique in the document: the install path (`node_modules/a/node_modules/b`, `python3.12/<wheel>`, `binary`). */
  ref: string
  name: string
  version: string
  purl: string
  hashes: SbomHash[]
  /** Where the registry or index serves it. */
  downloadLocation: string
  /** The refs of the components it depends on, sorted. */
  dependsOn: string[]
  /** The licence as locked (package.json's; NOASSERTION when it declares none); absent when the lock holds none. */
  license?: string
}

export interface SbomArtifact {
  layer: string
  kind: LockedOwnLayer['kind']
  artifactKey: ArtifactKey
  architectures: string[]
  /** Base64 SHA-256 of the zip (Lambda's CodeSha256) of each built or published content of this tree, sorted. */
  codeSha256: string[]
  components: SbomComponent[]
  /** Refs of the components nothing else in the artifact depends on: the layer's own packages. */
  topLevel: string[]
}

export interface SbomDocument {
  layer: string
  artifactKey: ArtifactKey
  format: SbomFormat
  /** The serialized document, ending in a newline. */
  text: string
}

const SRI_ALGORITHMS: Record<string, SbomHash['algorithm']> = {sha512: 'SHA-512', sha384: 'SHA-384', sha256: 'SHA-256', sha1: 'SHA-1'}

/** The hashes of an SRI integrity string (`sha512-<base64> sha1-<base64>`), as hex. */
export function sriHashes(integrity: string): SbomHash[] {
  const hashes: SbomHash[] = []
  for (const part of integrity.trim().split(/\s+/)) {
    const dash = part.indexOf('-')
    const algorithm = SRI_ALGORITHMS[part.slice(0, dash)]
    if (dash < 0 || !algorithm) continue
    hashes.push({algorithm, hex: Buffer.from(part.slice(dash + 1).replace(/\?.*$/, ''), 'base64').toString('hex')})
  }
  return hashes
}

/** purl of an npm package: `pkg:npm/%40scope/name@version`. */
export function npmPurl(name: string, version: string): string {
  const scoped = name.startsWith('@') && name.includes('/')
  const segments = scoped ? [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)] : [name]
  return `pkg:npm/${segments.map(encodeURIComponent).join('/')}@${encodeURIComponent(version)}`
}

/** purl of a Python project (PEP 503 normalized name, as the purl spec asks). */
export function pypiPurl(name: string, version: string, filename: string): string {
  return `pkg:pypi/${encodeURIComponent(name.toLowerCase().replace(/[-_.]+/g, '-'))}@${encodeURIComponent(version)}?file_name=${encodeURIComponent(filename)}`
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function sameTree(built: BuiltContent, artifact: LockedArtifact): boolean {
  // Licences do not change the zip: a tree recorded before the lock held them is the same content.
  const tree = (content: Pick<LockedArtifact, 'packages' | 'wheels'>): string => {
    const {packages, wheels} = withoutLicenses(content)
    return canonicalJson({packages: packages ?? null, wheels: wheels ?? null})
  }
  return tree(built) === tree(artifact)
}

/** The model of one artifact of an own layer. */
export function sbomArtifact(layer: string, locked: LockedOwnLayer, artifactKey: ArtifactKey, built: BuiltContent[]): SbomArtifact {
  const artifact = locked.artifacts[artifactKey]!
  const components: SbomComponent[] = []
  const packages = artifact.packages ?? {}
  for (const [at, pkg] of Object.entries(packages)) {
    const names = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
    const dependsOn = new Set<string>()
    for (const name of names) {
      const target = resolveFrom(packages, at, name)
      if (target !== undefined && target !== at) dependsOn.add(target)
    }
    components.push({
      ref: at,
      name: pkg.name,
      version: pkg.version,
      purl: npmPurl(pkg.name, pkg.version),
      hashes: sriHashes(pkg.integrity),
      downloadLocation: pkg.resolved,
      dependsOn: [...dependsOn].sort(byString),
      ...(pkg.license === undefined ? {} : {license: pkg.license}),
    })
  }
  for (const [runtime, wheels] of Object.entries(artifact.wheels ?? {})) {
    for (const wheel of Object.values(wheels)) {
      components.push({
        ref: `${runtime}/${wheel.filename}`,
        name: wheel.name,
        version: wheel.version,
        purl: pypiPurl(wheel.name, wheel.version, wheel.filename),
        hashes: [{algorithm: 'SHA-256', hex: wheel.sha256}],
        downloadLocation: wheel.url,
        dependsOn: [],
        ...(wheel.license === undefined ? {} : {license: wheel.license}),
      })
    }
  }
  if (artifact.binary) {
    const binary = artifact.binary
    components.push({ref: 'binary', name: binary.name, version: binary.version, purl: npmPurl(binary.name, binary.version), hashes: sriHashes(binary.integrity), downloadLocation: binary.resolved, dependsOn: []})
  }
  components.sort((a, b) => byString(a.ref, b.ref))
  const required = new Set(components.flatMap((component) => component.dependsOn))
  const hashes = new Set<string>()
  for (const regions of Object.values(locked.published ?? {})) {
    for (const byKey of Object.values(regions)) {
      const publication = byKey[artifactKey]
      if (publication) hashes.add(publication.codeSha256)
    }
  }
  for (const content of built) if (content.layer === layer && content.artifactKey === artifactKey && sameTree(content, artifact)) hashes.add(content.codeSha256)
  return {
    layer,
    kind: locked.kind,
    artifactKey,
    architectures: [...artifact.architectures].sort(byString),
    codeSha256: [...hashes].sort(byString),
    components,
    topLevel: components.filter((component) => !required.has(component.ref)).map((component) => component.ref),
  }
}

/** Every artifact of the layers asked for (all own layers when none), in lock order of layer names sorted, then artifact key. */
export function sbomArtifacts(inputs: SbomInputs): SbomArtifact[] {
  const names = inputs.layers.length > 0 ? [...new Set(inputs.layers)] : Object.keys(inputs.lock.layers).filter((name) => inputs.lock.layers[name]!.kind !== 'arn')
  const artifacts: SbomArtifact[] = []
  for (const name of names.sort(byString)) {
    const locked = entryNamed(inputs.lock.layers, name)
    if (!locked) {
      throw new UserInputError('ERR_LAYERS_SBOM_LAYER', `Layer ${name} is not in lockfile.json.`, {hint: `Name one of: ${Object.keys(inputs.lock.layers).sort(byString).join(', ') || '(none)'}; or run \`layers lock\` after adding it to the manifest.`})
    }
    if (locked.kind === 'arn') {
      throw new UserInputError('ERR_LAYERS_SBOM_LAYER', `Layer ${name} is a pinned ARN layer: layers did not resolve its content and has no tree to describe.`, {hint: 'Ask its publisher for an SBOM, or leave it out of the command.'})
    }
    for (const key of Object.keys(locked.artifacts).sort(byString)) artifacts.push(sbomArtifact(name, locked, key, inputs.built))
  }
  return artifacts
}

/** A UUID (RFC 9562 version 8: custom, here the first 128 bits of a SHA-256) of the text. */
export function contentUuid(text: string): string {
  const bytes = createHash('sha256').update(text).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const CDX_ALGORITHMS: Record<SbomHash['algorithm'], Enums.HashAlgorithm> = {
  'SHA-512': Enums.HashAlgorithm['SHA-512'],
  'SHA-384': Enums.HashAlgorithm['SHA-384'],
  'SHA-256': Enums.HashAlgorithm['SHA-256'],
  'SHA-1': Enums.HashAlgorithm['SHA-1'],
}

/** The artifact as a CycloneDX 1.5 JSON BOM: the layer artifact is metadata.component, each package a library component. */
export function cyclonedxJson(artifact: SbomArtifact, toolVersion: string): string {
  const bom = new Models.Bom()
  const root = new Models.Component(Enums.ComponentType.Application, artifact.layer, {bomRef: `layer:${artifact.layer}:${artifact.artifactKey}`, version: artifact.artifactKey})
  root.description = `AWS Lambda layer ${artifact.layer} (${artifact.kind}), artifact for ${artifact.architectures.join(' and ')}`
  root.properties.add(new Models.Property('layers:artifact', artifact.artifactKey))
  for (const architecture of artifact.architectures) root.properties.add(new Models.Property('layers:architecture', architecture))
  for (const codeSha256 of artifact.codeSha256) root.properties.add(new Models.Property('aws:lambda:CodeSha256', codeSha256))
  // One content: its zip's SHA-256 is the component's hash. Several (the same tree zipped by different layers versions): properties only.
  if (artifact.codeSha256.length === 1) root.hashes.set(Enums.HashAlgorithm['SHA-256'], Buffer.from(artifact.codeSha256[0]!, 'base64').toString('hex'))
  bom.metadata.component = root
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'layers', {version: toolVersion}))
  const byRef = new Map<string, Models.Component>()
  for (const item of artifact.components) {
    const component = new Models.Component(Enums.ComponentType.Library, item.name, {bomRef: item.ref, version: item.version, purl: item.purl})
    for (const hash of item.hashes) component.hashes.set(CDX_ALGORITHMS[hash.algorithm], hash.hex)
    // An SPDX expression as such; other declared text (UNLICENSED, "SEE LICENSE IN ...") by name; none for NOASSERTION.
    const expression = spdxExpression(item.license)
    if (expression) component.licenses.add(new Models.LicenseExpression(expression))
    else if (item.license !== undefined && item.license !== NOASSERTION) component.licenses.add(new Models.NamedLicense(item.license))
    component.externalReferences.add(new Models.ExternalReference(item.downloadLocation, Enums.ExternalReferenceType.Distribution))
    byRef.set(item.ref, component)
    bom.components.add(component)
  }
  for (const item of artifact.components) for (const to of item.dependsOn) byRef.get(item.ref)!.dependencies.add(byRef.get(to)!.bomRef)
  for (const ref of artifact.topLevel) root.dependencies.add(byRef.get(ref)!.bomRef)
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot5))
  const options = {sortLists: true, space: 2}
  bom.serialNumber = `urn:uuid:${contentUuid(serializer.serialize(bom, options))}`
  return `${serializer.serialize(bom, options)}\n`
}

// SPDX 2.3 JSON is written from this small typed model: no well-kept JavaScript library for SPDX 2.3
// documents exists (the SPDX tools are Java and Python).
interface SpdxPackage {
  SPDXID: string
  name: string
  versionInfo: string
  downloadLocation: string
  filesAnalyzed: false
  licenseConcluded: 'NOASSERTION'
  licenseDeclared: string
  copyrightText: 'NOASSERTION'
  supplier?: 'NOASSERTION'
  checksums?: Array<{algorithm: 'SHA512' | 'SHA384' | 'SHA256' | 'SHA1'; checksumValue: string}>
  externalRefs?: Array<{referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string}>
  primaryPackagePurpose?: 'LIBRARY' | 'CONTAINER'
  comment?: string
}

interface SpdxDocument {
  spdxVersion: 'SPDX-2.3'
  dataLicense: 'CC0-1.0'
  SPDXID: 'SPDXRef-DOCUMENT'
  name: string
  documentNamespace: string
  creationInfo: {created: string; creators: string[]; comment: string}
  packages: SpdxPackage[]
  relationships: Array<{spdxElementId: string; relationshipType: 'DESCRIBES' | 'DEPENDS_ON'; relatedSpdxElement: string}>
}

/**
 * SPDX 2.3 requires creationInfo.created; layers never writes clock time into output, so it is the
 * Unix epoch (the reproducible-builds convention for "no meaningful time"), said in creationInfo.comment.
 */
export const SPDX_CREATED = '1970-01-01T00:00:00Z'

function spdxDeclared(license: string | undefined): string {
  const expression = spdxExpression(license)
  return expression && !/\b(LicenseRef|DocumentRef)-/.test(expression) ? expression : NOASSERTION
}

/** The artifact as an SPDX 2.3 JSON document: the layer artifact is the described package, DEPENDS_ON for each edge, each package's declared licence (NOASSERTION when not an SPDX expression or absent). */
export function spdxJson(artifact: SbomArtifact, toolVersion: string): string {
  const rootId = 'SPDXRef-Layer'
  const ids = new Map(artifact.components.map((component, index) => [component.ref, `SPDXRef-Package-${index + 1}`]))
  const root: SpdxPackage = {
    SPDXID: rootId,
    name: artifact.layer,
    versionInfo: artifact.artifactKey,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: 'CONTAINER',
    ...(artifact.codeSha256.length === 1 ? {checksums: [{algorithm: 'SHA256' as const, checksumValue: Buffer.from(artifact.codeSha256[0]!, 'base64').toString('hex')}]} : {}),
    comment: `AWS Lambda layer ${artifact.layer} (${artifact.kind}), artifact for ${artifact.architectures.join(' and ')}${artifact.codeSha256.length > 0 ? `; CodeSha256 ${artifact.codeSha256.join(', ')}` : '; not built or published yet'}`,
  }
  const packages: SpdxPackage[] = artifact.components.map((component) => ({
    SPDXID: ids.get(component.ref)!,
    name: component.name,
    versionInfo: component.version,
    downloadLocation: component.downloadLocation || 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    // What the package declares, when it is an SPDX expression without LicenseRefs (those would need hasExtractedLicensingInfos); nothing is concluded.
    licenseDeclared: spdxDeclared(component.license),
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: 'LIBRARY',
    checksums: component.hashes.map((hash) => ({algorithm: hash.algorithm.replace('-', '') as 'SHA512', checksumValue: hash.hex})),
    externalRefs: [{referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: component.purl}],
    comment: `Installed at ${component.ref}`,
  }))
  const relationships: SpdxDocument['relationships'] = [
    {spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId},
    ...artifact.topLevel.map((ref) => ({spdxElementId: rootId, relationshipType: 'DEPENDS_ON' as const, relatedSpdxElement: ids.get(ref)!})),
    ...artifact.components.flatMap((component) => component.dependsOn.map((to) => ({spdxElementId: ids.get(component.ref)!, relationshipType: 'DEPENDS_ON' as const, relatedSpdxElement: ids.get(to)!}))),
  ]
  const body = {packages: [root, ...packages], relationships}
  const name = `${artifact.layer}-${artifact.artifactKey}`
  const document: SpdxDocument = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://spdx.org/spdxdocs/layers/${encodeURIComponent(name)}-${contentUuid(JSON.stringify({name, ...body}))}`,
    creationInfo: {created: SPDX_CREATED, creators: [`Tool: layers-${toolVersion}`], comment: 'Generated from lockfile.json; created is fixed so the same lock gives the same bytes.'},
    ...body,
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

export function renderSbom(artifact: SbomArtifact, format: SbomFormat, toolVersion: string): SbomDocument {
  return {layer: artifact.layer, artifactKey: artifact.artifactKey, format, text: format === 'cyclonedx' ? cyclonedxJson(artifact, toolVersion) : spdxJson(artifact, toolVersion)}
}

/** The file name of a document written into an --output directory. */
export function sbomFileName(document: Pick<SbomDocument, 'layer' | 'artifactKey' | 'format'>): string {
  return `${document.layer}.${document.artifactKey}.${document.format === 'cyclonedx' ? 'cdx' : 'spdx'}.json`
}
