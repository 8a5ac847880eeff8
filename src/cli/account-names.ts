// Owns the manifest's account names for human output of results that carry account ids only (prune,
// history, outdated): `111111111111` is shown as `dev (111111111111)` as everywhere else.
import {loadManifest} from '../manifest/load.js'

/**
 * Account id -> manifest name. The command has already read the manifest (or needs none); a manifest
 * that cannot be read here only costs the names, so the ids are shown alone.
 */
export async function manifestAccountNames(manifestPath: string): Promise<Map<string, string>> {
  try {
    const manifest = await loadManifest(manifestPath)
    return new Map(Object.values(manifest.accounts).map((account) => [account.id, account.name]))
  } catch {
    return new Map()
  }
}
