// Owns the PackumentSource on pacote: packuments through npm-registry-fetch with the project's npm
// options (registries, auth, the npm cache, retries), one in-memory copy per run, and the bundled
// packages of a tarball read from its `node_modules/**/package.json` entries as it streams, and its
// own package.json (for its licence, which abbreviated metadata lacks); the tarball lands in the npm
// cache (verified against its integrity), so the build does not download it again. pacote and tar are loaded
// on first use.
import type {Readable} from 'node:stream'
import {UserInputError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import {fetchableTarballProblem} from '../lock/check.js'
import type {NpmOptions} from '../npm/config.js'
import {fetchTarball} from '../npm/tarball.js'
import type {BundledPackage, PackageVersion, Packument, PackumentSource, TarballId} from './types.js'

/** `emit` hears the waits before a tarball is fetched again (src/npm/tarball.ts). */
export function pacotePackumentSource(npmOptions: NpmOptions, emit?: EmitEvent): PackumentSource {
  // pacote's own packument memo, keyed by abbreviated/full and URL.
  const packumentCache = new Map<string, unknown>()
  return {
    async packument(name, options) {
      const {default: pacote} = await import('pacote')
      const packument = await pacote.packument(name, {...npmOptions, packumentCache, fullMetadata: options?.full === true} as Parameters<typeof pacote.packument>[1])
      return packument as unknown as Packument
    },
    bundled(tarball) {
      return readTarball(npmOptions, emit, tarball, (stream, Parser) => readManifests(stream, Parser, BUNDLED_MANIFEST)).then((found) => found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    },
    async tarballManifest(tarball) {
      const found = await readTarball(npmOptions, emit, tarball, (stream, Parser) => readManifests(stream, Parser, OWN_MANIFEST))
      // A tarball without a readable package.json declares nothing (its licence is NOASSERTION).
      return found[0]?.manifest ?? {name: tarball.name, version: tarball.version}
    },
  }
}

/** A tarball on a configured registry with its integrity, streamed through the npm cache (verified; src/npm/tarball.ts). */
async function readTarball<T>(npmOptions: NpmOptions, emit: EmitEvent | undefined, tarball: TarballId, read: (stream: Readable, Parser: typeof import('tar').Parser) => Promise<T>): Promise<T> {
  const refused = fetchableTarballProblem(tarball)
  if (refused) {
    throw new UserInputError('ERR_LAYERS_REGISTRY_TARBALL_REFUSED', `The registry's metadata for ${tarball.name}@${tarball.version} ${refused}; refusing to fetch it.`, {
      hint: 'Check the registries in .npmrc: a registry may only point at http(s) tarballs with an integrity.',
      details: {package: tarball.name, version: tarball.version},
    })
  }
  const {Parser} = await import('tar')
  return fetchTarball(npmOptions, tarball, (stream) => read(stream, Parser), emit ? {emit} : {})
}

/** `node_modules/**\/package.json` below the package folder: group 1 is the bundled package's path. */
const BUNDLED_MANIFEST = /^[^/]+\/((?:node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)+)package\.json$/
/** The package's own package.json (group 1 empty). */
const OWN_MANIFEST = /^[^/]+\/()package\.json$/

/** The package.json files whose tar path `pattern` matches, with the path its group 1 captures (without the final slash). */
async function readManifests(stream: Readable, Parser: typeof import('tar').Parser, pattern: RegExp): Promise<BundledPackage[]> {
  const found: BundledPackage[] = []
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const match = pattern.exec(entry.path)
        if (!match || entry.type !== 'File' || match[1]!.split('/').includes('..')) return entry.resume()
        const chunks: Buffer[] = []
        entry.on('data', (chunk: Buffer) => chunks.push(chunk))
        entry.on('end', () => {
          try {
            const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PackageVersion
            if (manifest && typeof manifest.version === 'string') found.push({path: match[1]!.slice(0, -1), manifest})
          } catch {
            // Not a package manifest Node could load either; the files are still in the zip.
          }
        })
      },
    })
    parser.on('error', reject)
    stream.on('error', reject)
    parser.on('end', () => resolve())
    stream.pipe(parser as unknown as NodeJS.WritableStream)
  })
  return found
}
