// Owns what SSM Parameter Store should hold for a project, as plain data: one String parameter per own
// layer, channel, account, region and architecture (an artifact built for both architectures gives
// both names the same ARN), named by settings.ssm.parameterName, holding the version ARN the channel
// points at (a declared channel: lockfile `channels`; the implicit `default`: lockfile `published`);
// which names under the template's fixed prefix the manifest no longer names (stale); and moving
// channels in a lockfile to versions publish just made sure of. Pure: no I/O.
import {artifactArchitectures, type Lockfile, type Publication, type Publications} from '../lock/types.js'
import {layerChannels, type OwnLayer} from '../manifest/types.js'
import {ssmParameterName} from './names.js'

export interface SsmTarget {
  accountName: string
  accountId: string
  region: string
}

export interface DesiredParameter extends SsmTarget {
  name: string
  layer: string
  channel: string
  architecture: string
  artifactKey: string
  /** The version ARN the channel holds. */
  value: string
  version: number
  codeSha256: string
}

/** The publications a channel of a locked own layer holds: declared channels their own, the implicit one `published`. */
export function channelPublications(lock: Lockfile, layer: OwnLayer, channel: string): Publications | undefined {
  const locked = lock.layers[layer.name]
  if (!locked || locked.kind === 'arn') return undefined
  return layer.channels ? locked.channels?.[channel] : locked.published
}

/**
 * The parameters of `layers` (each with the targets it is published to) for `channels` (default: all
 * of each layer's), from the lockfile; a channel that holds nothing in a target (not published or
 * promoted there yet) has no parameter there.
 */
export function desiredParameters(template: string, lock: Lockfile, layers: ReadonlyArray<{layer: OwnLayer; targets: readonly SsmTarget[]}>, channels?: readonly string[]): DesiredParameter[] {
  const out: DesiredParameter[] = []
  for (const {layer, targets} of layers) {
    for (const channel of layerChannels(layer).filter((name) => !channels || channels.includes(name))) {
      const publications = channelPublications(lock, layer, channel)
      for (const target of targets) {
        const byKey = publications?.[target.accountId]?.[target.region] ?? {}
        for (const [artifactKey, publication] of Object.entries(byKey).sort(([a], [b]) => (a < b ? -1 : 1))) {
          for (const architecture of artifactArchitectures(artifactKey)) {
            if (!layer.architectures.includes(architecture)) continue
            out.push({...target, name: ssmParameterName(template, {layer: layer.name, channel, architecture}), layer: layer.name, channel, architecture, artifactKey, value: publication.arn, version: publication.version, codeSha256: publication.codeSha256})
          }
        }
      }
    }
  }
  return out
}

/** Every parameter name the manifest's own layers name (all channels and architectures), whatever they hold. */
export function namedParameters(template: string, layers: readonly OwnLayer[]): Set<string> {
  const names = new Set<string>()
  for (const layer of layers) {
    for (const channel of layerChannels(layer)) for (const architecture of layer.architectures) names.add(ssmParameterName(template, {layer: layer.name, channel, architecture}))
  }
  return names
}

/** The path to list for stale parameters: the template up to the last `/` before its first placeholder (at least `/`). */
export function templatePath(template: string): string {
  const fixed = template.slice(0, Math.max(0, template.indexOf('{')))
  const path = fixed.slice(0, fixed.lastIndexOf('/'))
  return path === '' ? '/' : path
}

/** Whether `name` has the template's shape (each placeholder one path-safe word), i.e. layers would write it. */
export function matchesTemplate(template: string, name: string): boolean {
  const pattern = template.split(/(\{(?:layer|channel|architecture)\})/).map((part) => (/^\{\w+\}$/.test(part) ? '[A-Za-z0-9_.+-]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${pattern}$`).test(name)
}

/** Listed parameters (name -> value) of the template's shape that `named` lacks, sorted by name. */
export function staleParameters(template: string, listed: ReadonlyMap<string, string>, named: ReadonlySet<string>): Array<{name: string; value: string}> {
  return [...listed]
    .filter(([name]) => matchesTemplate(template, name) && !named.has(name))
    .map(([name, value]) => ({name, value}))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export interface ChannelMove extends SsmTarget {
  layer: string
  channel: string
  artifactKey: string
  publication: Publication
}

/** The moves that change `lock`: the channel holds another version there (or none). */
export function changingMoves(lock: Lockfile, moves: readonly ChannelMove[]): ChannelMove[] {
  return moves.filter((move) => {
    const layer = lock.layers[move.layer]
    return layer !== undefined && layer.kind !== 'arn' && layer.channels?.[move.channel]?.[move.accountId]?.[move.region]?.[move.artifactKey]?.arn !== move.publication.arn
  })
}

/** Points each move's channel at its publication in `lock` (mutating it); moves of layers the lock lacks are dropped. */
export function applyChannelMoves(lock: Lockfile, moves: readonly ChannelMove[]): Lockfile {
  for (const move of moves) {
    const layer = lock.layers[move.layer]
    if (!layer || layer.kind === 'arn') continue
    const regions = (((layer.channels ??= {})[move.channel] ??= {})[move.accountId] ??= {})
    ;(regions[move.region] ??= {})[move.artifactKey] = {...move.publication}
  }
  return lock
}
