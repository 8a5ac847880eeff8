// Owns planning `layers publish`, as pure functions over plain data: which artifact of which own layer
// goes to which account and region (the targets of the functions that use it), the bucket, the
// content-addressed key and the description carrying the content hash and its SBOM's (the SBOM
// itself, src/sbom/content.ts, is uploaded beside the zip), the grants the manifest's
// `share` asks for, which existing version already holds the same content, and the grant changes that
// make a version's policy match the manifest. The publish service (run.ts) does the I/O.
import {UserInputError} from '../errors/index.js'
import {artifactArchitectures, type ArtifactKey, type Lockfile, type Publication} from '../lock/types.js'
import {bucketName} from '../manifest/bucket.js'
import {selectAccounts, selectLayerNames, selectRegions} from '../manifest/select.js'
import {isOwnLayer, type Account, type Architecture, type Manifest, type OwnLayer, type Share} from '../manifest/types.js'
import {contentSbom, sbomObjectKey} from '../sbom/content.js'

/** The content of one built artifact, as the build reports it. */
export interface ArtifactContent {
  layer: string
  artifactKey: ArtifactKey
  /** Base64 SHA-256 of the zip (Lambda's CodeSha256). */
  codeSha256: string
  sha256Hex: string
  zipBytes: number
  unzippedBytes: number
  zipPath: string
}

export interface PublishTarget {
  accountName: string
  accountId: string
  region: string
}

export interface Grant {
  sid: string
  /** An account id, or `*`. */
  principal: string
  organizationId?: string
}

/** One artifact of one layer in one account and region. */
export interface PublishUnit {
  layer: string
  artifactKey: ArtifactKey
  architectures: Architecture[]
  runtimes: string[]
  license?: string
  target: PublishTarget
  content: ArtifactContent
  bucket: string
  key: string
  description: string
  /** The content's CycloneDX SBOM and its content-addressed key in `bucket`, uploaded before the version is published. */
  sbom: UnitSbom
  grants: Grant[]
  /** The lockfile's record for this artifact and target when it holds this very content. */
  locked?: Publication
}

export interface UnitSbom {
  key: string
  text: string
  sha256Hex: string
}

/** A pinned `arn` layer a function uses in a target: publish checks that the target can read it. */
export interface ArnCheck {
  layer: string
  target: PublishTarget
  /** undefined when lockfile.json pins nothing for this target. */
  arn?: string
}

export interface PublishPlan {
  units: PublishUnit[]
  arnChecks: ArnCheck[]
}

export interface PublishSelection {
  /** Layer names (own or arn); all layers when empty. */
  layers?: string[]
  /** Manifest account names or ids; all when empty. */
  accounts?: string[]
  regions?: string[]
}

/** Marker put in every version's description: ListLayerVersions does not report CodeSha256, the description does. */
export const CONTENT_MARKER = 'layers-sha256:'
/**
 * Marker of the SBOM's SHA-256 (hex), after the content's: the version itself names its SBOM, so any
 * clone (and a lock that moved on) finds it with one GetLayerVersionByArn; its key follows
 * (sbomObjectKey). 76 characters: the layer's own description keeps 100 of Lambda's 256.
 */
export const SBOM_MARKER = 'layers-sbom:'
const DESCRIPTION_LIMIT = 256

export function versionDescription(layer: Pick<OwnLayer, 'description'>, sha256Hex: string, sbomSha256Hex: string): string {
  const marker = `${CONTENT_MARKER}${sha256Hex} ${SBOM_MARKER}${sbomSha256Hex}`
  const text = (layer.description ?? '').trim()
  if (!text) return marker
  const room = DESCRIPTION_LIMIT - marker.length - 1
  return `${text.length > room ? text.slice(0, room - 1) + '…' : text} ${marker}`
}

/** The content hash a description carries, if any. */
export function describedContent(description: string | undefined): string | undefined {
  const at = description?.lastIndexOf(CONTENT_MARKER) ?? -1
  if (at < 0) return undefined
  const hex = description!.slice(at + CONTENT_MARKER.length, at + CONTENT_MARKER.length + 64)
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined
}

/** The SBOM hash a description carries, if any (versions published before SBOMs carry none). */
export function describedSbom(description: string | undefined): string | undefined {
  const match = /(?:^| )layers-sbom:([0-9a-f]{64})(?: |$)/.exec(description ?? '')
  return match?.[1]
}


export function artifactObjectKey(prefix: string, layer: string, sha256Hex: string): string {
  return `${prefix}${layer}/${sha256Hex}.zip`
}

/** Grants for `share`; never to the account that owns the version. */
export function desiredGrants(share: Share, ownerAccountId: string): Grant[] {
  const grants: Grant[] = []
  for (const id of [...new Set(share.accounts)].sort()) {
    if (id !== ownerAccountId) grants.push({sid: `layers-account-${id}`, principal: id})
  }
  if (share.organization) grants.push({sid: `layers-org-${share.organization}`, principal: '*', organizationId: share.organization})
  if (share.public) grants.push({sid: 'layers-public', principal: '*'})
  return grants
}

/** What to change so the version's grants are exactly `desired`: a statement that differs is removed, then added anew. */
export function diffGrants(desired: Grant[], current: Grant[]): {add: Grant[]; remove: string[]} {
  const same = (a: Grant, b: Grant) => a.sid === b.sid && a.principal === b.principal && (a.organizationId ?? '') === (b.organizationId ?? '')
  const remove = current.filter((grant) => !desired.some((want) => same(want, grant))).map((grant) => grant.sid)
  const add = desired.filter((want) => !current.some((grant) => same(want, grant)))
  return {add, remove: [...new Set(remove)].sort()}
}

/** Versions whose description names this content, oldest first (the oldest is the one to keep using). */
export function candidateVersions<T extends {version: number; description?: string}>(versions: T[], sha256Hex: string): T[] {
  return versions.filter((version) => describedContent(version.description) === sha256Hex).sort((a, b) => a.version - b.version)
}

/** The artifact a function of `architecture` uses: the narrowest whose architectures include it. */
export function artifactFor(keys: readonly ArtifactKey[], architecture: Architecture): ArtifactKey | undefined {
  return keys
    .filter((key) => artifactArchitectures(key).includes(architecture))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))[0]
}

/**
 * Per layer: the targets and architectures its functions need, as `accountId/region` -> architectures.
 * A layer no function uses goes to every selected account and region, in all its artifacts.
 */
export function layerTargets(
  manifest: Pick<Manifest, 'functions' | 'accounts'>,
  layerName: string,
  accounts: Account[],
  regions: string[] | undefined,
): Map<string, {target: PublishTarget; architectures: Set<Architecture> | 'all'}> {
  const byId = new Map(accounts.map((account) => [account.name, account]))
  const regionOk = (region: string) => !regions || regions.length === 0 || regions.includes(region)
  const out = new Map<string, {target: PublishTarget; architectures: Set<Architecture> | 'all'}>()
  const users = Object.values(manifest.functions).filter((fn) => fn.layers.includes(layerName))
  const add = (account: Account, region: string, architecture: Architecture | 'all') => {
    const id = `${account.id}/${region}`
    let entry = out.get(id)
    if (!entry) {
      entry = {target: {accountName: account.name, accountId: account.id, region}, architectures: architecture === 'all' ? 'all' : new Set()}
      out.set(id, entry)
    }
    if (entry.architectures !== 'all' && architecture !== 'all') entry.architectures.add(architecture)
  }
  if (users.length === 0) {
    for (const account of accounts) for (const region of account.regions) if (regionOk(region)) add(account, region, 'all')
  } else {
    for (const fn of users) {
      for (const accountName of fn.accounts) {
        const account = byId.get(accountName)
        if (!account) continue
        for (const region of account.regions) if (regionOk(region)) add(account, region, fn.architecture)
      }
    }
  }
  return out
}

const targetOrder = (a: PublishTarget, b: PublishTarget) => (a.accountId + '/' + a.region < b.accountId + '/' + b.region ? -1 : a.accountId + '/' + a.region > b.accountId + '/' + b.region ? 1 : 0)

export function planPublish(
  manifest: Pick<Manifest, 'settings' | 'accounts' | 'layers' | 'functions' | 'file'>,
  lock: Lockfile,
  artifacts: ArtifactContent[],
  selection: PublishSelection,
  /** The version of layers: the SBOM names its tool. */
  toolVersion: string,
): PublishPlan {
  const accounts = selectAccounts(manifest, selection.accounts)
  const names = selectLayerNames(manifest, selection.layers)
  const regions = selectRegions(manifest, accounts, selection.regions)
  const units: PublishUnit[] = []
  const arnChecks: ArnCheck[] = []
  for (const name of names) {
    const spec = manifest.layers[name]!
    const targets = [...layerTargets(manifest, name, accounts, regions).values()].sort((a, b) => targetOrder(a.target, b.target))
    if (!isOwnLayer(spec)) {
      const locked = lock.layers[name]
      for (const {target} of targets) {
        const arn = locked?.kind === 'arn' ? locked.arns[target.accountId]?.[target.region] : undefined
        arnChecks.push({layer: name, target, ...(arn ? {arn} : {})})
      }
      continue
    }
    const built = artifacts.filter((artifact) => artifact.layer === name)
    const keys = built.map((artifact) => artifact.artifactKey)
    const locked = lock.layers[name]
    // One document per content, whatever the number of targets.
    const sboms = new Map<ArtifactKey, UnitSbom>()
    for (const {target, architectures} of targets) {
      const wanted = architectures === 'all' ? new Set(keys) : new Set([...architectures].flatMap((arch) => artifactFor(keys, arch) ?? []))
      for (const content of built.filter((artifact) => wanted.has(artifact.artifactKey)).sort((a, b) => (a.artifactKey < b.artifactKey ? -1 : 1))) {
        const sbom = sboms.get(content.artifactKey) ?? unitSbom(name, locked, content, manifest.settings.prefix, toolVersion)
        sboms.set(content.artifactKey, sbom)
        const record = locked && locked.kind !== 'arn' ? locked.published?.[target.accountId]?.[target.region]?.[content.artifactKey] : undefined
        units.push({
          layer: name,
          artifactKey: content.artifactKey,
          architectures: artifactArchitectures(content.artifactKey),
          runtimes: spec.runtimes,
          ...(spec.license ? {license: spec.license} : {}),
          target,
          content,
          bucket: bucketName(manifest.settings.bucket, target),
          key: artifactObjectKey(manifest.settings.prefix, name, content.sha256Hex),
          description: versionDescription(spec, content.sha256Hex, sbom.sha256Hex),
          sbom,
          grants: desiredGrants(spec.share, target.accountId),
          ...(record && record.codeSha256 === content.codeSha256 ? {locked: record} : {}),
        })
      }
    }
  }
  return {units, arnChecks}
}

function unitSbom(layer: string, locked: Lockfile['layers'][string] | undefined, content: ArtifactContent, prefix: string, toolVersion: string): UnitSbom {
  if (!locked || locked.kind === 'arn' || !locked.artifacts[content.artifactKey]) {
    // The command checks the lock against the manifest first, and builds from the lock: never seen there.
    throw new UserInputError('ERR_LAYERS_LOCK_STALE', `lockfile.json holds no artifact ${content.artifactKey} of layer ${layer} for the content built (${content.sha256Hex}).`, {hint: `Run \`layers lock ${layer}\` and publish again.`})
  }
  const {text, sha256Hex} = contentSbom(layer, locked, content.artifactKey, content.codeSha256, 'cyclonedx', toolVersion)
  return {key: sbomObjectKey(prefix, layer, sha256Hex), text, sha256Hex}
}
