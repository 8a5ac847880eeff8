// Owns scanning: every target (account and region) concurrently under a limit, every page of its
// functions, the aliases of each function (ListAliases) and each published version they point at, read
// once per function however many aliases name it ($LATEST is not read again: ListFunctions gave it) and
// not at all when an earlier run read it under a revision of an alias routing to it now
// (src/store/function-versions.ts), and one layer version read (GetLayerVersion with the layer ARN) per account and distinct layer
// version ARN, none for a version the account read in an earlier run (src/store/layer-versions.ts).
// Reads start as soon as a page names what they need; at most 3 at once per target. Each function is
// handed over as soon as its aliases, versions and layer versions are read, and dropped: the next page
// of a listing is asked for only when few listed functions are left to read, so a target holds about a
// page of functions however many it has (memory flat in fleet size). A target that fails is ended as
// failed with its error, one whose aliases could not all be read as incomplete; the others complete.
// AWS access sits behind LambdaReadApi.
import pLimit, {type LimitFunction} from 'p-limit'
import {redact} from '../cli/redact.js'
import type {EmitEvent} from '../events.js'
import type {FunctionVersionCache, FunctionVersionEntry} from '../store/function-versions.js'
import type {LayerVersionCache} from '../store/layer-versions.js'
import type {AuditTarget, LayerVersionInfo, ScannedAlias, ScannedFunction, ScannedVersion, TargetFailure, TargetStatus} from './types.js'

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
/** Listed functions left to read below which the next ListFunctions page is asked for: enough for the readers to go on while it comes. */
const LISTED_AHEAD = 10
/** Function versions read (by every target) are cached in transactions of this many: one per version cost more CPU than the reads' own answers, and a batch per target would hold the versions of every target in flight. */
const VERSION_CACHE_BATCH = 500

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

/** How a target's scan ended; its functions were handed over one by one before. */
export type TargetEnd = AuditTarget & {functions: number} & ({status: 'ok'} | {status: Exclude<TargetStatus, 'ok'>; error: TargetFailure})

/** Where a scan hands its results: each is awaited, so a slow consumer holds the scan back instead of piling results up. */
export interface ScanSink {
  /** A function of `target` with its aliases and the versions they route to (none when they could not be read), and what its account said of each layer version it runs. */
  function(target: AuditTarget, fn: ScannedFunction, layerVersions: Record<string, LayerVersionInfo>): void | Promise<void>
  /** `target` is done: every function it handed over came before. A failed target's listing broke off (`functions` were handed over before it did). */
  target(end: TargetEnd): void | Promise<void>
}

/**
 * Scans every target, handing over each function as soon as it is read and each target once it is
 * done (in completion order; the next target waiting for a slot starts once the sink took the last).
 * Layer version reads are shared by the targets of an account.
 */
export async function streamTargets(targets: AuditTarget[], apiFor: ReadApiForTarget, options: ScanOptions, sink: ScanSink): Promise<void> {
  const limit = pLimit(Math.max(1, options.concurrency))
  // Per account, not per ARN alone: whether a shared version can be read (and what Lambda answers for
  // a deleted one) depends on who asks; regions of one account share the account's answers.
  const lookups = new Map<string, Map<string, Promise<LayerVersionInfo>>>()
  // An account's answers go once its last target is done: a fleet audited a few targets at a time
  // holds those of the accounts in flight only.
  const targetsLeft = new Map<string, number>()
  for (const target of targets) targetsLeft.set(target.accountId, (targetsLeft.get(target.accountId) ?? 0) + 1)
  const targetDone = (accountId: string): void => {
    const left = (targetsLeft.get(accountId) ?? 1) - 1
    if (left > 0) targetsLeft.set(accountId, left)
    else {
      targetsLeft.delete(accountId)
      lookups.delete(accountId)
    }
  }
  let done = 0
  /** Function versions read and not yet cached, of every target. */
  const reads: FunctionVersionEntry[] = []
  const cacheReads = (): void => {
    if (reads.length > 0) options.functionVersions?.put(reads.splice(0))
  }

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

  /** What the account said about each layer version `fn` runs ($LATEST and the versions its aliases route to). */
  const layerVersionsOf = async (accountId: string, fn: ScannedFunction): Promise<Record<string, LayerVersionInfo>> => {
    const ofAccount = lookups.get(accountId)
    const versions: Record<string, LayerVersionInfo> = {}
    if (!ofAccount) return versions
    for (const layer of [...fn.layers, ...(fn.versions ?? []).flatMap((version) => version.layers)]) {
      const info = ofAccount.get(layer.arn)
      if (info && !(layer.arn in versions)) versions[layer.arn] = await info
    }
    return versions
  }

  /** A published version of `fn` its aliases route to: from the cache when read before under one of their revisions; a version read from Lambda is cached (in batches). */
  const readVersion = async (api: LambdaReadApi, lookupLimit: LimitFunction, target: AuditTarget, fn: ScannedFunction, version: string, aliases: ScannedAlias[]): Promise<ScannedVersion> => {
    const cache = options.functionVersions
    if (!cache || fn.arn === undefined) return lookupLimit(() => api.readFunctionVersion(fn.name, version))
    const key = {accountId: target.accountId, region: target.region, functionArn: fn.arn, version}
    const revisions = aliases.filter((alias) => alias.version === version || alias.additional?.version === version).flatMap((alias) => (alias.revisionId ? [alias.revisionId] : []))
    const cached = cache.get(key, revisions)
    if (cached) return cached
    const read = await lookupLimit(() => api.readFunctionVersion(fn.name, version))
    if (revisions.length > 0) {
      reads.push({key, aliasRevisions: revisions, version: read})
      if (reads.length >= VERSION_CACHE_BATCH) cacheReads()
    }
    return read
  }

  /** Reads the aliases of `fn` and the versions they point at into it; lookups for their layers start. */
  const readAliases = async (api: LambdaReadApi, lookupLimit: LimitFunction, target: AuditTarget, fn: ScannedFunction): Promise<void> => {
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
    const versions = await Promise.all(wanted.map((version) => readVersion(api, lookupLimit, target, fn, version, aliases)))
    for (const version of versions) for (const layer of version.layers) lookUp(api, lookupLimit, target.accountId, layer.arn)
    fn.aliases = aliases
    fn.versions = versions.sort((a, b) => Number(a.version) - Number(b.version))
  }

  const scanOne = async (target: AuditTarget): Promise<TargetEnd> => {
    let handedOver = 0
    let api: LambdaReadApi
    try {
      api = await apiFor(target)
    } catch (error) {
      return {...target, status: 'failed', functions: 0, error: failureOf(error)}
    }
    // Limited per target, not over all of them: Lambda throttles each account and region on its own,
    // and a global limit would queue the lookups of a large fleet behind each other.
    const lookups = Math.max(1, options.lookupsPerTarget ?? LOOKUPS_PER_TARGET)
    const lookupLimit = pLimit(lookups)
    /** Listed, not yet read. */
    const listed: ScannedFunction[] = []
    const unread: Array<{name: string; error: TargetFailure}> = []
    let sinkFailure: {error: unknown} | undefined
    // Wakes the listing when the readers have taken listed functions down to LISTED_AHEAD.
    let wakeListing: (() => void) | undefined
    // At most `lookups` readers take listed functions in listing order: a function waiting costs its
    // place in `listed`, not a pending call (promises, closures) per function of the target.
    const readers = new Set<Promise<void>>()
    // In a frame of its own, gone once the function is handed over: in the reader's frame, the function
    // it had handed over (aliases and versions read into it) stayed in stale registers while the reader
    // waited for the next one's reads (a heap snapshot found about 6 read functions per target).
    const readOne = async (fn: ScannedFunction): Promise<void> => {
      await readAliases(api, lookupLimit, target, fn).catch((error: unknown) => void unread.push({name: fn.name, error: failureOf(error)}))
      try {
        await sink.function(target, fn, await layerVersionsOf(target.accountId, fn))
        handedOver++
      } catch (error) {
        sinkFailure ??= {error}
      }
    }
    const reader = async (): Promise<void> => {
      for (let fn = listed.shift(); fn !== undefined && !sinkFailure; fn = listed.shift()) {
        if (listed.length <= LISTED_AHEAD && wakeListing) {
          wakeListing()
          wakeListing = undefined
        }
        await readOne(fn)
      }
    }
    const startReaders = (): void => {
      while (readers.size < lookups && listed.length > 0) {
        const running: Promise<void> = reader().finally(() => {
          readers.delete(running)
          // A reader stops when nothing listed is left, or when the sink failed: the listing goes on or ends.
          wakeListing?.()
          wakeListing = undefined
        })
        readers.add(running)
      }
    }
    // The page lives in this frame only: held in the listing's own frame while it waits for the readers
    // (V8 keeps a suspended function's stale registers), it kept every function of the page after the
    // readers had handed it over, aliases and versions read into it (a heap snapshot found 50 per target).
    const listPage = async (marker: string | undefined): Promise<string | undefined> => {
      const page = await api.listFunctions(marker)
      for (const fn of page.functions) {
        listed.push(fn)
        for (const layer of fn.layers) lookUp(api, lookupLimit, target.accountId, layer.arn)
      }
      return page.nextMarker
    }
    const readersDone = async (): Promise<void> => {
      while (readers.size > 0) await Promise.all(readers)
    }
    try {
      let marker: string | undefined
      const seen = new Set<string>()
      do {
        while (listed.length > LISTED_AHEAD && !sinkFailure) await new Promise<void>((resolve) => (wakeListing = resolve))
        if (sinkFailure) break
        marker = await listPage(marker)
        startReaders()
        if (marker !== undefined) {
          // A marker seen twice would loop for ever: treat it as the server's bug, not ours.
          if (seen.has(marker)) throw Object.assign(new Error(`ListFunctions returned marker ${marker} twice`), {name: 'PaginationLoop'})
          seen.add(marker)
        }
      } while (marker !== undefined)
      await readersDone()
    } catch (error) {
      if (sinkFailure) throw sinkFailure.error
      // What was listed before the listing broke off is not read: the target failed.
      listed.length = 0
      await readersDone()
      return {...target, status: 'failed', functions: handedOver, error: failureOf(error)}
    }
    if (sinkFailure) throw sinkFailure.error
    if (unread.length > 0) {
      unread.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const first = unread[0]!
      const more = unread.length > 1 ? ` (and ${unread.length - 1} more function${unread.length > 2 ? 's' : ''})` : ''
      return {...target, status: 'incomplete', functions: handedOver, error: {code: first.error.code, message: `aliases of ${first.name} could not be read: ${first.error.message}${more}`}}
    }
    return {...target, status: 'ok', functions: handedOver}
  }

  try {
    await Promise.all(
      targets.map((target) =>
        limit(async () => {
          const end = await scanOne(target)
          targetDone(target.accountId)
          await sink.target(end)
          done++
          options.emit({type: 'progress', phase: 'audit', message: `${target.accountId}/${target.region}`, current: done, total: targets.length})
        }),
      ),
    )
  } finally {
    // Versions read are cached whatever became of their targets (a failed or incomplete one included).
    cacheReads()
  }
}

/** The AWS error name and message of a failure, secrets redacted. */
export function failureOf(error: unknown): TargetFailure {
  const err = error as {name?: string; code?: string; message?: string}
  const code = typeof err?.code === 'string' && err.code.startsWith('ERR_LAYERS_') ? err.code : (err?.name ?? 'Error')
  return {code, message: redact(String(err?.message ?? error)).split('\n')[0] ?? ''}
}
