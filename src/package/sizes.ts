// Owns the size accounting of a function: its package, each layer, the total against Lambda's
// 262,144,000-byte unzipped limit, and the "fat" package the user would ship without layers (the
// function's code plus the node_modules its layers provide, laid out as `node_modules/...` in the
// function zip). The fat zip is not written: because the zip writer compresses each entry on its own,
// its exact size is the sum of each entry's compressed bytes and headers, read from the central
// directories of the thin zip and the built layer zips. Pure: listings in, sizes out.
import {UNZIPPED_LIMIT} from '../build/build.js'
import type {ZipListing} from './zip-read.js'

/** Lambda's limit for a function plus all its layers, unzipped, in bytes (the one `layers build` checks layers against). */
export const FUNCTION_UNZIPPED_LIMIT = UNZIPPED_LIMIT

const LOCAL_HEADER = 30
const CENTRAL_HEADER = 46
const DATA_DESCRIPTOR = 16
const END_RECORD = 22

/** Bytes one entry takes in a zip made by src/build/zip.ts (below the zip64 thresholds). */
export function zipEntryBytes(entryPath: string, compressedSize: number, descriptor: boolean): number {
  return LOCAL_HEADER + CENTRAL_HEADER + 2 * Buffer.byteLength(entryPath, 'utf8') + compressedSize + (descriptor ? DATA_DESCRIPTOR : 0)
}

/** Size of a zip holding exactly `entries` (as the writer lays them out). */
export function zipBytesOf(entries: Iterable<Pick<ZipListing, 'path' | 'compressedSize' | 'descriptor'>>): number {
  let total = END_RECORD
  for (const entry of entries) total += zipEntryBytes(entry.path, entry.compressedSize, entry.descriptor)
  return total
}

const LAYER_MODULES = /^nodejs\/(?:node\d+\/)?node_modules\/(.+)$/

/**
 * The fat package: `code` entries plus every `nodejs/[nodeNN/]node_modules/...` entry of the layers
 * (in the function's layer order; a later layer's file replaces an earlier one at the same path),
 * moved to `node_modules/...`. Code files win over layer files at the same path.
 */
export function fatPackageSize(code: readonly ZipListing[], layers: ReadonlyArray<readonly ZipListing[]>): {zipBytes: number; unzippedBytes: number; files: number} {
  const entries = new Map<string, ZipListing>()
  for (const listing of layers) {
    for (const entry of listing) {
      const match = LAYER_MODULES.exec(entry.path)
      if (match) entries.set(`node_modules/${match[1]}`, {...entry, path: `node_modules/${match[1]}`})
    }
  }
  for (const entry of code) entries.set(entry.path, entry)
  let unzippedBytes = 0
  for (const entry of entries.values()) unzippedBytes += entry.size
  return {zipBytes: zipBytesOf(entries.values()), unzippedBytes, files: entries.size}
}
