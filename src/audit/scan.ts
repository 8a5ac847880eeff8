// Owns scanning: every target (account and region) concurrently under a limit, every page of its
// functions, the aliases of each function (ListAliases) and each published version they point at, read
// once per function however many aliases name it ($LATEST is not read again: ListFunctions gave it) and
// not at all when an earlier run read it under a revision of an alias routing to it now
// (src/store/function-versions.ts), and one layer version read (GetLayerVersion with the layer ARN) per account and distinct layer
// version ARN, none for a version the account read in an earlier run (src/store/layer-versions.ts).
// Reads start as soon as a page names what they need, so they overlap the next page; at most 3 at once
// per target. A target that fails is returned as failed with its error, one whose aliases could not
// all be read as incomplete; the others complete. streamTargets hands each target over as soon as it
// and its layer version reads are done and keeps no function after that (memory flat in fleet size);
// scanTargets collects them. AWS access sits behind LambdaReadApi.
import pLimit, {type LimitFunction} from 'p-limit'
import {redact} from '../cli/redact.js'
import type {EmitEvent} from '../events.js'
import type {FunctionVersionCache, FunctionVersionEntry} from '../store/function-versions.js'
import type {LayerVersionCache} from '../store/layer-versions.js'
import type {AuditTarget, LayerVersionInfo, LayerVersionsByAccount, ScannedAlias, ScannedFunction, ScannedVersion, TargetFailure, TargetScan} from './types.js'

/** The Lambda reads an audit makes in one target. */
export interface LambdaReadApi {
  /** One page of ListFunctions (Marker / NextMarker). */
  listFunctions(marker: string | undefined): Promise<{functions: ScannedFunction[]; nextMarker?: string}>
  /** One layer version by its ARN (GetLayerVersion); `missing` when Lambda says it does not exist. */
  readLayerVersion(arn: string): Promise<LayerVersionInfo>
  /** One page of a function's aliases (ListAliases, Marker / NextMarker). */
  listAliases(functionName: string, marker: string | undefined): Promise<{aliases: ScannedAlias[]; nextMarker?: string}>
  /** One published version of a function (GetFunctionConfiguration with the version as Qualifier). */
  readFunctionVersion(functionName: string, version: string): Promise<ScannedVersion>
}

/** Gives the read API of a target (resolving its credentials); a rejection fails that target only. */
export type ReadApiForTarget = (target: AuditTarget) => Promise<LambdaReadApi>

/**
 * Reads in flight at once per target: the request budget (10/s by default) lets no more through, so
 * more in flight would only wait inside the SDK for their token, each holding a serialized request;
 * 3 keep the budget busy up to 300 ms per call.
 */
const LOOKUPS_PER_TARGET = 3

export interface ScanOptions {
  /** Targets scanned at once. */
  concurrency: number
  /** Lambda reads in flight at once in one target (default 3). */
  lookupsPerTarget?: number
  emit: EmitEvent
  /** Layer versions read before (any run, any target): not read again. */
  cache?: LayerVersionCache
  /** Published function versions read before under an alias revision seen again: not read again. */
  functionVersions?: FunctionVersionCache
}

export interface ScanResult {
  scans: TargetScan[]
  /** Account id -> layer version ARN -> what reading it as that account said. */
  layerVersions: LayerVersionsByAccount
}

/** A finished target, with what reading each layer version its functions name said to its account. */
export type OnTargetScanned = (scan: TargetScan, layerVersions: LayerVersionsByAccount) => void | Promise<void>

/**
 * Scans every target and calls `onScan` for each as soon as it is done (in completion order; the
 * next target waiting for a slot starts once `onScan` returns, so a slow consumer holds the scan
 * back instead of piling up results). Layer version reads are shared by the targets of an account.
 */
export async function streamTargets(targets: AuditTarget[], apiFor: ReadApiForTarget, options: ScanOptions, onScan: OnTargetScanned): Promise<void> {
  const limit = pLimit(Math.max(1, options.concurrency))
  // Per account, not per ARN alone: whether a shared version can be read (and what Lambda answers for
  // a deleted one) depends on who asks; regions of one account share the account's answers.
  const lookups = new Map<string, Map<string, Promise<LayerVersionInfo>>>()
  let done = 0

  const lookUp = (api: LambdaReadApi, lookupLimit: LimitFunction, accountId: string, arn: string): void => {
    let ofAccount = lookups.get(accountId)
    if (!ofAccount) lookups.set(accountId, (ofAccount = new Map()))
    if (ofAccount.has(arn)) return
    const cached = options.cache?.get(accountId, arn)
    if (cached) {
      ofAccount.set(arn, Promise.resolve({status: 'ok', ...cached}))
      return
    }
    ofAccount.set(
      arn,
      lookupLimit(() => api.readLayerVersion(arn)).then(
        (info) => {
          if (info.status === 'ok') options.cache?.put(accountId, arn, {codeSha256: info.codeSha256, codeSize: info.codeSize, compatibleRuntimes: info.compatibleRuntimes, compatibleArchitectures: info.compatibleArchitectures})
          return info
        },
        (error: unknown): LayerVersionInfo => ({status: 'unreadable', error: failureOf(error)}),
      ),
    )
  }

  /** A published version of `fn` its aliases route to: from the cache when read before under one of their revisions; a version read from Lambda is added to `reads` (the target's, cached once it is done). */
  const readVersion = async (api: LambdaReadApi, lookupLimit: LimitFunction, target: AuditTarget, fn: ScannedFunction, version: string, aliases: ScannedAlias[], reads: FunctionVersionEntry[]): Promise<ScannedVersion> => {
    const cache = options.functionVersions
    if (!cache || fn.arn === undefined) return lookupLimit(() => api.readFunctionVersion(fn.name, version))
    const key = {accountId: target.accountId, region: target.region, functionArn: fn.arn, version}
    const revisions = aliases.filter((alias) => alias.version === version || alias.additional?.version === version).flatMap((alias) => (alias.revisionId ? [alias.revisionId] : []))
    const cached = cache.get(key, revisions)
    if (cached) return cached
    const read = await lookupLimit(() => api.readFunctionVersion(fn.name, version))
    if (revisions.length > 0) reads.push({key, aliasRevisions: revisions, version: read})
    return read
  }

  /** Reads the aliases of `fn` and the versions they point at into it; lookups for their layers start. */
  const readAliases = async (api: LambdaReadApi, lookupLimit: LimitFunction, target: AuditTarget, fn: ScannedFunction, reads: FunctionVersionEntry[]): Promise<void> => {
    const aliases: ScannedAlias[] = []
    const seen = new Set<string>()
    let marker: string | undefined
    do {
      const page = await lookupLimit(() => api.listAliases(fn.name, marker))
      aliases.push(...page.aliases)
      marker = page.nextMarker
      if (marker !== undefined) {
        if (seen.has(marker)) throw Object.assign(new Error(`ListAliases of ${fn.name} returned marker ${marker} twice`), {name: 'PaginationLoop'})
        seen.add(marker)
      }
    } while (marker !== undefined)
    const wanted = [...new Set(aliases.flatMap((alias) => [alias.version, ...(alias.additional ? [alias.additional.version] : [])]))].filter((version) => version !== '$LATEST')
    const versions = await Promise.all(wanted.map((version) => readVersion(api, lookupLimit, target, fn, version, aliases, reads)))
    for (const version of versions) for (const layer of version.layers) lookUp(api, lookupLimit, target.accountId, layer.arn)
    fn.aliases = aliases
    fn.versions = versions.sort((a, b) => Number(a.version) - Number(b.version))
  }

  const scanOne = async (target: AuditTarget): Promise<TargetScan> => {
    try {
      const api = await apiFor(target)
      // Limited per target, not over all of them: Lambda throttles each account and region on its own,
      // and a global limit would queue the lookups of a large fleet behind each other.
      const lookups = Math.max(1, options.lookupsPerTarget ?? LOOKUPS_PER_TARGET)
      const lookupLimit = pLimit(lookups)
      const functions: ScannedFunction[] = []
      const unread: Array<{name: string; error: TargetFailure}> = []
      const reads: FunctionVersionEntry[] = []
      // The functions' aliases are read in listing order by at most `lookups` readers: a function still
      // waiting costs its place in `functions`, not a pending call (promises, closures) per function of
      // the target, so a large fleet scanned all at once holds little besides its functions.
      let nextToRead = 0
      const readers = new Set<Promise<void>>()
      const reader = async (): Promise<void> => {
        while (nextToRead < functions.length) {
          const fn = functions[nextToRead++]!
          await readAliases(api, lookupLimit, target, fn, reads).catch((error: unknown) => void unread.push({name: fn.name, error: failureOf(error)}))
        }
      }
      const startReaders = (): void => {
        while (readers.size < lookups && nextToRead < functions.length) {
          const running: Promise<void> = reader().finally(() => readers.delete(running))
          readers.add(running)
        }
      }
      let marker: string | undefined
      const seen = new Set<string>()
      do {
        const page = await api.listFunctions(marker)
        for (const fn of page.functions) {
          functions.push(fn)
          for (const layer of fn.layers) lookUp(api, lookupLimit, target.accountId, layer.arn)
        }
        startReaders()
        marker = page.nextMarker
        if (marker !== undefined) {
          // A marker seen twice would loop for ever: treat it as the server's bug, not ours.
          if (seen.has(marker)) throw Object.assign(new Error(`ListFunctions returned marker ${marker} twice`), {name: 'PaginationLoop'})
          seen.add(marker)
        }
      } while (marker !== undefined)
      while (readers.size > 0) await Promise.all(readers)
      // In one transaction per target (one per version cost more CPU than the reads' own answers); the
      // versions read are cached even when other aliases of the target could not be read.
      options.functionVersions?.put(reads)
      if (unread.length > 0) {
        unread.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        const first = unread[0]!
        const more = unread.length > 1 ? ` (and ${unread.length - 1} more function${unread.length > 2 ? 's' : ''})` : ''
        return {...target, status: 'incomplete', functions, error: {code: first.error.code, message: `aliases of ${first.name} could not be read: ${first.error.message}${more}`}}
      }
      return {...target, status: 'ok', functions}
    } catch (error) {
      return {...target, status: 'failed', error: failureOf(error)}
    }
  }

  /** What the account said about each layer version the target's functions name. */
  const versionsOf = async (scan: TargetScan): Promise<LayerVersionsByAccount> => {
    const ofAccount = lookups.get(scan.accountId)
    const versions: Record<string, LayerVersionInfo> = {}
    // An incomplete target has its functions (only some aliases are missing): their versions count too.
    if (scan.status !== 'failed' && ofAccount) {
      for (const fn of scan.functions) {
        for (const layer of [...fn.layers, ...(fn.versions ?? []).flatMap((version) => version.layers)]) {
          const info = ofAccount.get(layer.arn)
          if (info && !(layer.arn in versions)) versions[layer.arn] = await info
        }
      }
    }
    return {[scan.accountId]: versions}
  }

  await Promise.all(
    targets.map((target) =>
      limit(async () => {
        const scan = await scanOne(target)
        await onScan(scan, await versionsOf(scan))
        done++
        options.emit({type: 'progress', phase: 'audit', message: `${target.accountId}/${target.region}`, current: done, total: targets.length})
      }),
    ),
  )
}

/** Every target scanned, collected (streamTargets keeping all of it). */
export async function scanTargets(targets: AuditTarget[], apiFor: ReadApiForTarget, options: ScanOptions): Promise<ScanResult> {
  const scans: TargetScan[] = []
  const layerVersions: LayerVersionsByAccount = {}
  await streamTargets(targets, apiFor, options, (scan, versions) => {
    scans.push(scan)
    for (const [accountId, ofAccount] of Object.entries(versions)) Object.assign((layerVersions[accountId] ??= {}), ofAccount)
  })
  // In the order of `targets`, as before streaming.
  const order = new Map(targets.map((target, index) => [`${target.accountId}/${target.region}`, index]))
  scans.sort((a, b) => order.get(`${a.accountId}/${a.region}`)! - order.get(`${b.accountId}/${b.region}`)!)
  return {scans, layerVersions}
}

/** The AWS error name and message of a failure, secrets redacted. */
export function failureOf(error: unknown): TargetFailure {
  const err = error as {name?: string; code?: string; message?: string}
  const code = typeof err?.code === 'string' && err.code.startsWith('ERR_LAYERS_') ? err.code : (err?.name ?? 'Error')
  return {code, message: redact(String(err?.message ?? error)).split('\n')[0] ?? ''}
}
