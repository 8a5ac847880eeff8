// Owns the plain data an audit works with: the targets scanned, what each target's functions use,
// what is known about each layer version, the findings, and the report the CLI prints and the
// history stores. The JSON form of AuditReport is documented in schema/audit.schema.json.
import type {AdvisoriesReport} from '../advisories/plan.js'
import type {Architecture} from '../manifest/types.js'

/** 2: finding code `drift-iac` (a new enum value, see src/cli/json-output.ts). */
export const AUDIT_SCHEMA_VERSION = 2

/** One account and region to scan. */
export interface AuditTarget {
  accountId: string
  /** The manifest key of the account, when the target came from the manifest. */
  accountName?: string
  region: string
}

export interface FunctionLayerRef {
  /** Layer version ARN, as ListFunctions reports it. */
  arn: string
  /** Zipped size of that layer version, as ListFunctions reports it. */
  codeSize: number
}

/** One function as ListFunctions reports it (only what the audit reads), with its aliases. */
export interface ScannedFunction {
  name: string
  /** FunctionArn (what ListTags takes). */
  arn?: string
  /** Absent for container-image functions. */
  runtime?: string
  /** Set for container-image functions (PackageType Image), which take no layers. */
  packageType?: 'Image'
  architecture: Architecture
  /** Zipped size of the deployment package. */
  codeSize: number
  layers: FunctionLayerRef[]
  /** Its aliases (ListAliases); absent when they were not read. */
  aliases?: ScannedAlias[]
  /** The published versions its aliases point at (GetFunctionConfiguration with the version as qualifier), each once. */
  versions?: ScannedVersion[]
}

/** An alias as ListAliases reports it: the version it points at, and the second one of a weighted alias. */
export interface ScannedAlias {
  name: string
  /** A version number, or `$LATEST`. */
  version: string
  /** RoutingConfig.AdditionalVersionWeights: the other version and the share of traffic it gets (0..1). */
  additional?: {version: string; weight: number}
  /** The alias's RevisionId: changes whenever the alias does (and a recreated function's aliases are new). */
  revisionId?: string
}

/** A published function version (immutable: its layers are those it was published with). */
export interface ScannedVersion {
  version: string
  runtime?: string
  architecture: Architecture
  layers: FunctionLayerRef[]
  /** CodeSha256 of the version's deployment package. */
  codeSha256?: string
}

export interface TargetFailure {
  /** The AWS error name or a layers error code, e.g. AccessDeniedException. */
  code: string
  message: string
}

/**
 * `incomplete`: the functions were listed and judged, but the aliases or alias versions of some could
 * not be read (`error` names the first); what those aliases run is unknown, so prune treats the target
 * as unread.
 */
export type TargetScan =
  | (AuditTarget & {status: 'ok'; functions: ScannedFunction[]})
  | (AuditTarget & {status: 'incomplete'; functions: ScannedFunction[]; error: TargetFailure})
  | (AuditTarget & {status: 'failed'; error: TargetFailure})

export type TargetStatus = TargetScan['status']

/** What reading one layer version (GetLayerVersion) said about it. */
export type LayerVersionInfo =
  | {status: 'ok'; codeSize: number; codeSha256: string; compatibleArchitectures: Architecture[]; compatibleRuntimes: string[]}
  | {status: 'missing'}
  | {status: 'unreadable'; error: TargetFailure}

/** Account id -> layer version ARN -> what reading it said to that account. */
export type LayerVersionsByAccount = Record<string, Record<string, LayerVersionInfo>>

export type Severity = 'error' | 'warning' | 'info'
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info']

export const FINDING_CODES = ['drift', 'drift-iac', 'behind', 'missing', 'unmanaged', 'limits', 'runtime', 'arch', 'layer-runtime', 'image'] as const
export type FindingCode = (typeof FINDING_CODES)[number]

export interface Finding {
  code: FindingCode
  severity: Severity
  accountId: string
  region: string
  function: string
  /** The alias whose version the finding is about (absent: `$LATEST`, and in findings read back from the history). */
  alias?: string
  /** The layer version ARN the finding is about, when it is about one. */
  layer?: string
  /** drift-iac of a function a CloudFormation stack owns: the stack to redeploy. */
  stack?: string
  message: string
  /** One line saying how to fix it. */
  fix: string
}

/** How many functions use one layer version, in total and per target. */
export interface LayerUsage {
  /** Layer ARN without the version. */
  layerArn: string
  /** The manifest's name for the layer, when the manifest or lock knows it. */
  name?: string
  version: number
  arn: string
  functions: number
  targets: Array<{accountId: string; region: string; functions: number}>
}

export interface TargetReport extends AuditTarget {
  status: TargetStatus
  functions: number
  error?: TargetFailure
}

export interface FunctionReport {
  accountId: string
  region: string
  name: string
  runtime?: string
  /** Set for container-image functions. */
  packageType?: 'Image'
  architecture: Architecture
  codeSize: number
  layers: string[]
  /** True when the manifest declares the function for this account and region. */
  managed: boolean
  /** Its aliases and the layers of the versions they point at. */
  aliases?: AliasReport[]
}

export interface AliasReport {
  name: string
  /** The versions it routes to: one, or two for a weighted alias (weights add up to 1). */
  routes: Array<{version: string; weight: number; layers: string[]}>
}

export interface FindingsDiff {
  /** Run id of the audit compared with; absent when there was none. */
  previousRunId?: number
  previousStartedAt?: string
  added: Finding[]
  resolved: Finding[]
  unchanged: number
}

export interface AuditReport {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION
  /** History run id (absent when the run was not saved). */
  runId?: number
  startedAt: string
  finishedAt: string
  summary: {
    targets: number
    failedTargets: number
    functions: number
    findings: Record<Severity, number>
  }
  targets: TargetReport[]
  findings: Finding[]
  usage: LayerUsage[]
  functions: FunctionReport[]
  diff?: FindingsDiff
  /** With --advisories: the advisories of the locked packages traced to this audit's functions (as `layers advisories` reports them). */
  advisories?: Omit<AdvisoriesReport, 'audit'>
}
