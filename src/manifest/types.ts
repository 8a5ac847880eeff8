// Owns the shape of a loaded, validated `layers.yaml` (version 1) with its defaults applied. The
// parser (src/manifest/load.ts) produces it; every other module reads it and never re-parses YAML.
import type {SourceLocation} from '../errors/index.js'

export const ARCHITECTURES = ['x86_64', 'arm64'] as const
export type Architecture = (typeof ARCHITECTURES)[number]

export interface Settings {
  /** S3 bucket name template; may contain {accountId} and {region}. */
  bucket: string
  /** Key prefix for layer artifacts, '' or ending in '/'. */
  prefix: string
  regions: string[]
  architectures: Architecture[]
  runtimes: string[]
  /** Lambda control-plane requests per second per account and region (the request budget); absent: --max-rps, else the default. */
  maxRps?: number
  /** Team state on S3 (leases); absent means the defaults (DEFAULT_STATE_SETTINGS). */
  state?: StateSettings
  /** `settings.ssm`: publish (and promote) write each channel's version ARN to SSM Parameter Store; absent: no parameters. */
  ssm?: SsmSettings
  /** Function tags (`KEY=VALUE`, or `KEY` for any value) meaning another tool owns the function (src/iac/ownership.ts). */
  ownershipTags?: string[]
  /** `settings.licenses`: the licence policy `layers lock` and `validate` enforce (src/licenses/policy.ts); absent: none. */
  licenses?: LicenseSettings
}

/** `settings.licenses`: single SPDX licences (or UNLICENSED / NOASSERTION) every locked package must fit. */
export interface LicenseSettings {
  /** When set, every package needs an OR choice of its licence made only of these. */
  allow?: string[]
  /** No package may need one of these (deny wins over allow). */
  deny?: string[]
}

/** `settings.ssm`: where the version ARN of each own layer, channel and architecture is published. */
export interface SsmSettings {
  /** Parameter name template with {layer}, {channel} and {architecture} (src/ssm/names.ts); default DEFAULT_SSM_PARAMETER_NAME. */
  parameterName: string
}

/** The channel of a layer that declares no `channels`. */
export const DEFAULT_CHANNEL = 'default'

/** `settings.state`: where the team-state leases live and how long a lease lasts without renewal. */
export interface StateSettings {
  /** Bucket name template ({accountId}, {region}) of the state; default: the artifact bucket (settings.bucket). */
  bucket?: string
  /** false: no remote state (a single-user setup), as --no-remote-state. */
  remote: boolean
  /** Seconds a lease lasts without renewal; a holder renews every third of it. */
  leaseSeconds: number
}

export const DEFAULT_STATE_SETTINGS: StateSettings = {remote: true, leaseSeconds: 60}

export interface Account {
  /** The manifest key, e.g. `prod`. */
  name: string
  /** 12-digit AWS account id. */
  id: string
  /** Named profile from ~/.aws/config (SSO and assume-role profiles included). */
  profile?: string
  /** Role to assume in the account (from the default credentials or `profile`). */
  roleArn?: string
  externalId?: string
  sessionName?: string
  regions: string[]
  /** `protected: true`: attach asks before changing a function here (refuses without a terminal unless --yes). */
  protected?: boolean
}

export interface Share {
  /** Account ids (resolved from manifest account names or given as 12 digits). */
  accounts: string[]
  /** AWS Organizations id (o-...), granted with principal `*`. */
  organization?: string
  public: boolean
}

interface OwnLayerBase {
  name: string
  runtimes: string[]
  architectures: Architecture[]
  license?: string
  description?: string
  /** Globs (relative to the layer root) removed from the artifact in addition to the default prune list; `!glob` keeps a file. */
  exclude: string[]
  /** False turns the documented default prune list off. */
  defaultExcludes: boolean
  share: Share
  /**
   * `channels:` as declared (e.g. prod, beta): each points at one version per account, region and
   * artifact (lockfile `channels`). Absent: the one implicit channel DEFAULT_CHANNEL, always the
   * version of the locked content (lockfile `published`).
   */
  channels?: string[]
}

export interface NpmLayer extends OwnLayerBase {
  kind: 'npm'
  /** name -> semver range (or other npm spec), from the manifest or the package.json it names. */
  dependencies: Record<string, string>
  /** Absolute path of the package.json the dependencies were read from, when the manifest named one. */
  packageJson?: string
  /** npm `overrides`: the layer's `overrides:` key, else the package.json's `overrides` field. */
  overrides?: NpmOverrides
  /** The package.json's optionalDependencies (installed when they can be, as npm does). */
  optionalDependencies?: Record<string, string>
  /** The team's lockfile that pins the package.json's dependencies (absent with `lockfile: ignore` or when there is none). */
  teamLock?: TeamLockRef
}

export interface NpmOverrides {
  /** The rules as written (checked by validate; read by src/resolve/overrides.ts). */
  rules: unknown
  /** What `$name` values refer to: the package's own specs (devDependencies first, as npm looks them up). */
  references: Record<string, string>
  /** Where the rules were written, for messages: the manifest or the package.json path. */
  where: string
}

/** A team lockfile (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock) as the manifest was loaded. */
export interface TeamLockRef {
  /** Absolute path of the lockfile. */
  file: string
  /** Hex sha256 of its bytes. */
  sha256: string
}

export interface PipLayer extends OwnLayerBase {
  kind: 'pip'
  /** PEP 508 requirements in source order, from the manifest map or the file it names. */
  requirements: string[]
  /** Absolute path of the requirements.txt or pyproject.toml the requirements were read from, when the manifest named one. */
  requirementsFile?: string
}

export interface DirLayer extends OwnLayerBase {
  kind: 'dir'
  /** Absolute path of the directory whose content is the layer. */
  dir: string
}

export interface RuntimeLayer extends OwnLayerBase {
  kind: 'runtime'
  /** A template name under templates/runtimes/ or an absolute path to a user's template directory. */
  template: string
  /** Semver range of the binary package the template names; '' means the template's own range. */
  version: string
}

export interface ArnLayer {
  kind: 'arn'
  name: string
  /** A layer ARN or layer version ARN; may contain `{region}`; versionless means newest at lock time. */
  arn: string
  /** An SSM parameter (e.g. a vendor's public `/aws/service/...` one; may contain `{region}`) holding the publisher's current version ARN, for `outdated`. */
  ssm?: string
}

export type OwnLayer = NpmLayer | PipLayer | DirLayer | RuntimeLayer
export type LayerSpec = OwnLayer | ArnLayer

export interface FunctionSpec {
  /** The manifest key. */
  key: string
  /** The deployed function name (default: the key). */
  name: string
  /** Absolute path of the code directory. */
  source: string
  handler: string
  runtime: string
  architecture: Architecture
  /** Layer names from `layers:`, in the order Lambda extracts them. */
  layers: string[]
  /** Account names from `accounts:`. */
  accounts: string[]
  exclude: string[]
  /** `image:` — the container image's base and ECR repository for `layers image` and `deploy --image` (their flags win). */
  image?: FunctionImageSettings
}

export interface FunctionImageSettings {
  /** A registry reference, `oci:<absolute dir>` (resolved from the manifest's directory) or `scratch`. */
  base?: string
  repository?: string
}

export interface Manifest {
  /** Absolute path of the manifest file. */
  file: string
  /** Directory of the manifest: relative paths in it resolve from here. */
  root: string
  version: 1
  settings: Settings
  accounts: Record<string, Account>
  layers: Record<string, LayerSpec>
  functions: Record<string, FunctionSpec>
  /** Where a value came from, by its path in the document (e.g. ['functions', 'api', 'layers', 1]). */
  locate(path: ReadonlyArray<string | number>): SourceLocation | undefined
}

export function isOwnLayer(layer: LayerSpec): layer is OwnLayer {
  return layer.kind !== 'arn'
}

/** The channels of an own layer: those it declares, else the implicit DEFAULT_CHANNEL. */
export function layerChannels(layer: OwnLayer): string[] {
  return layer.channels ?? [DEFAULT_CHANNEL]
}
