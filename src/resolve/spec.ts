// Owns reading a dependency spec (`name: spec` in a layer or a package's dependencies) with
// npm-package-arg, the parser npm uses: which registry package it names (the target of an
// `npm:` alias, else the name itself) and the range or dist-tag wanted. Anything that is not a
// registry package (git, github shorthand, file:, link:, directories, tarball URLs) is refused here,
// so neither validate nor lock nor build ever hands such a spec to pacote.
import npa from 'npm-package-arg'

export interface RegistrySpec {
  /** The registry package: the alias target for `npm:` aliases, else the dependency's own name. */
  realName: string
  kind: 'range' | 'tag'
  /** A semver range (or version) or a dist-tag. */
  wanted: string
}

/** A dist-tag is a word (latest, next, beta-2), never something version-like such as 1.2.3.4. */
const TAG = /^[A-Za-z][\w-]*$/

/** Reads `spec` for dependency `name`; `invalid` when npm cannot parse it, `unsupported` for non-registry sources. */
export function parseRegistrySpec(name: string, spec: string): RegistrySpec | {invalid: string} | {unsupported: string} {
  let parsed: npa.Result
  try {
    parsed = npa.resolve(name, spec === '' ? '*' : spec)
  } catch (error) {
    const message = (error as Error).message
    // Unknown protocols (link:, ...) and aliases to git or files are sources layers does not lock.
    if ((error as {code?: string}).code === 'EUNSUPPORTEDPROTOCOL' || /^aliases only work for registry/.test(message)) return {unsupported: `${spec} is not a registry package (${message})`}
    return {invalid: message}
  }
  let target: npa.Result = parsed
  if (parsed.type === 'alias') {
    const sub = (parsed as npa.AliasResult).subSpec
    if (!sub?.name || !['range', 'version', 'tag'].includes(sub.type)) return {unsupported: `${spec} is an npm: alias to something that is not a registry package`}
    target = sub
  }
  if (target.type === 'range' || target.type === 'version') return {realName: target.name!, kind: 'range', wanted: target.fetchSpec ?? '*'}
  if (target.type === 'tag') {
    const tag = target.fetchSpec ?? 'latest'
    return TAG.test(tag) ? {realName: target.name!, kind: 'tag', wanted: tag} : {invalid: `${JSON.stringify(tag)} is neither a semver range nor a dist-tag`}
  }
  return {unsupported: `${spec} is a ${target.type} dependency; layers locks registry packages only`}
}
