// Owns the PackumentSource on pacote: packuments through npm-registry-fetch with the project's npm
// options (registries, auth, the npm cache, retries), one in-memory copy per run, and the bundled
// packages of a tarball read from its `node_modules/**/package.json` entries as it streams (the
// tarball lands in the npm cache, so the build does not download it again). pacote and tar are loaded
// on first use.
import type {Readable} from 'node:stream'
import {UserInputError} from '../errors/index.js'
import {fetchableTarballProblem} from '../lock/check.js'
import type {NpmOptions} from '../npm/config.js'
import type {BundledPackage, PackageVersion, Packument, PackumentSource} from './types.js'

export function pacotePackumentSource(npmOptions: NpmOptions): PackumentSource {
  // pacote's own packument memo, keyed by abbreviated/full and URL.
  const packumentCache = new Map<string, unknown>()
  return {
    async packument(name, options) {
      const {default: pacote} = await import('pacote')
      const packument = await pacote.packument(name, {...npmOptions, packumentCache, fullMetadata: options?.full === true} as Parameters<typeof pacote.packument>[1])
      return packument as unknown as Packument
    },
    async bundled(tarball) {
      const refused = fetchableTarballProblem(tarball)
      if (refused) {
        throw new UserInputError('ERR_LAYERS_REGISTRY_TARBALL_REFUSED', `The registry's metadata for ${tarball.name}@${tarball.version} ${refused}; refusing to fetch it.`, {
          hint: 'Check the registries in .npmrc: a registry may only point at http(s) tarballs with an integrity.',
          details: {package: tarball.name, version: tarball.version},
        })
      }
      const [{default: pacote}, {Parser}] = await Promise.all([import('pacote'), import('tar')])
      return pacote.tarball.stream(
        `${tarball.name}@${tarball.resolved}`,
        (stream) => readBundled(stream, Parser),
        {...npmOptions, integrity: tarball.integrity, resolved: tarball.resolved} as Parameters<typeof pacote.tarball.stream>[2],
      )
    },
  }
}

const BUNDLED_MANIFEST = /^[^/]+\/((?:node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)+)package\.json$/

async function readBundled(stream: Readable, Parser: typeof import('tar').Parser): Promise<BundledPackage[]> {
  const found: BundledPackage[] = []
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const match = BUNDLED_MANIFEST.exec(entry.path)
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
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
