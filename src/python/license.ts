// Owns the licence of a locked Python distribution, as its core metadata (METADATA, PEP 566 / 639)
// declares it: `License-Expression` (PEP 639) first; else the `License` field when it is an SPDX
// expression (free text and whole licence texts are not); else the `License ::` classifiers of the
// common licences as SPDX ids (several joined by OR, as a choice; one classifier without a mapping
// makes it unknown); else NOASSERTION, as for an npm package that declares none (src/licenses/).
// The metadata is read from the file PEP 658 serves beside the wheel (`<url>.metadata`, sha256
// checked when the index gives one), else from the wheel itself (sha256 checked against the lock),
// taken from the wheel cache when there and put there when downloaded, so the build does not download
// it again; an sdist's only from such a metadata file (else NOASSERTION). Every read is bounded by a
// timeout and tried again as download.ts says.
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import parse from 'spdx-expression-parse'
import yauzl from 'yauzl'
import {OperationalError} from '../errors/index.js'
import {NOASSERTION} from '../licenses/policy.js'
import type {LockedWheel} from '../lock/types.js'
import type {EmitEvent} from '../events.js'
import {withoutCredentials, type PythonIndexConfig} from './config.js'
import {certificateHint, downloadFromIndex, IndexDownloadError} from './download.js'
import type {IndexFile} from './index.js'
import {cacheDistribution, cachedDistribution} from './wheel-cache.js'

/** A core metadata file that has not arrived after this long fails the lock instead of hanging it. */
const METADATA_TIMEOUT_MS = 60_000
/** A whole wheel (read only when the index serves no metadata file) may take longer. */
const WHEEL_TIMEOUT_MS = 600_000

/** `License :: ...` trove classifiers (after that prefix) of the common licences, as SPDX ids. */
const CLASSIFIER_SPDX: Readonly<Record<string, string>> = {
  'OSI Approved :: MIT License': 'MIT',
  'OSI Approved :: MIT No Attribution License (MIT-0)': 'MIT-0',
  'OSI Approved :: Apache Software License': 'Apache-2.0',
  'OSI Approved :: ISC License (ISCL)': 'ISC',
  'OSI Approved :: Python Software Foundation License': 'PSF-2.0',
  'OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'OSI Approved :: GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'OSI Approved :: GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'OSI Approved :: GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'OSI Approved :: GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'OSI Approved :: GNU Affero General Public License v3': 'AGPL-3.0-only',
  'OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)': 'EPL-1.0',
  'OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'OSI Approved :: Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'OSI Approved :: The Unlicense (Unlicense)': 'Unlicense',
  'OSI Approved :: Universal Permissive License (UPL)': 'UPL-1.0',
  'OSI Approved :: zlib/libpng License': 'Zlib',
  'CC0 1.0 Universal (CC0 1.0) Public Domain Dedication': 'CC0-1.0',
}

/** The header fields of a core metadata file (up to the first blank line; continuation lines folded in), by lower-case name. */
export function coreMetadataFields(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>()
  let last: string[] | undefined
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break
    if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += `\n${line.trim()}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const values = fields.get(name) ?? []
    values.push(line.slice(colon + 1).trim())
    fields.set(name, values)
    last = values
  }
  return fields
}

const isSpdx = (text: string): boolean => {
  try {
    parse(text)
    return true
  } catch {
    return false
  }
}

/** The licence a core metadata file declares (see the header), NOASSERTION when none can be read. */
export function coreMetadataLicense(text: string): string {
  const fields = coreMetadataFields(text)
  const expression = fields.get('license-expression')?.[0]
  if (expression && isSpdx(expression)) return expression
  const license = fields.get('license')?.[0]
  if (license && !license.includes('\n') && isSpdx(license)) return license
  const classifiers = (fields.get('classifier') ?? []).filter((classifier) => classifier.startsWith('License ::') && classifier !== 'License :: OSI Approved')
  const ids = classifiers.map((classifier) => CLASSIFIER_SPDX[classifier.slice('License :: '.length).trim()])
  if (ids.length === 0 || ids.some((id) => id === undefined)) return NOASSERTION
  return [...new Set(ids as string[])].sort().join(' OR ')
}

/** The licence of a locked distribution, read as the header says; `file` is its index listing (for PEP 658 metadata). */
export async function wheelLicense(layer: string, wheel: LockedWheel, file: IndexFile | undefined, config: PythonIndexConfig, emit?: EmitEvent): Promise<string> {
  if (!wheel.filename.endsWith('.whl') && !file?.coreMetadata) return NOASSERTION
  if (file?.coreMetadata) {
    const sha256 = file.coreMetadata === true ? undefined : file.coreMetadata.sha256
    const body = await download(layer, wheel, `${wheel.url}.metadata`, `the core metadata of ${wheel.filename}`, config, METADATA_TIMEOUT_MS, emit)
    checkSha256(layer, `the core metadata of ${wheel.filename}`, body, sha256)
    return coreMetadataLicense(body.toString('utf8'))
  }
  const cached = await cachedDistribution(wheel)
  let body: Buffer
  if (cached) body = await readFile(cached)
  else {
    body = await download(layer, wheel, wheel.url, wheel.filename, config, WHEEL_TIMEOUT_MS, emit)
    checkSha256(layer, wheel.filename, body, wheel.sha256)
    await cacheForBuild(wheel, body)
  }
  const metadata = await wheelMetadata(body)
  return metadata === undefined ? NOASSERTION : coreMetadataLicense(metadata)
}

async function download(layer: string, wheel: LockedWheel, url: string, what: string, config: PythonIndexConfig, timeoutMs: number, emit: EmitEvent | undefined): Promise<Buffer> {
  try {
    return await downloadFromIndex(url, config, {what: `${what} (layer ${layer}, for its licence)`, totalTimeoutMs: timeoutMs, emit})
  } catch (error) {
    if (!(error instanceof IndexDownloadError)) throw error
    throw new OperationalError('ERR_LAYERS_PYTHON_FETCH', `Layer ${layer}: cannot read ${what} from ${withoutCredentials(url)} (index ${wheel.index}, for its licence): ${error.message}.`, {
      hint: certificateHint(error) ?? 'Check the network and the index credentials (pip.conf / uv.toml), then run `layers lock` again; pip\'s `retries` and `timeout` (pip.conf, PIP_RETRIES, PIP_TIMEOUT) set how long it is tried.',
      details: {layer, url: withoutCredentials(url), index: wheel.index, attempts: error.attempts},
    })
  }
}

/** Keeps a wheel read whole for the build (wheel-cache.ts). Only a saved download: a cache that cannot be written costs the build one fetch, never the lock. */
async function cacheForBuild(wheel: LockedWheel, body: Buffer): Promise<void> {
  try {
    await cacheDistribution(wheel, body)
  } catch {
    // See above: the build fetches (and verifies) the wheel itself.
  }
}

function checkSha256(layer: string, what: string, body: Buffer, expected: string | undefined): void {
  if (expected === undefined) return
  const actual = createHash('sha256').update(body).digest('hex')
  if (actual === expected.toLowerCase()) return
  throw new OperationalError('ERR_LAYERS_INTEGRITY_MISMATCH', `Layer ${layer}: ${what} does not match the sha256 the index lists: expected ${expected}, got ${actual}; its licence was not read and nothing was locked.`, {
    hint: 'The index (or a proxy) served other bytes than it lists: treat it as compromised, or lock again once it is consistent.',
    details: {layer, expected, actual},
  })
}

/** The text of the wheel's `<name>-<version>.dist-info/METADATA`, undefined when it has none. */
async function wheelMetadata(body: Buffer): Promise<string | undefined> {
  const zip = await yauzl.fromBufferPromise(body, {lazyEntries: true})
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      zip.on('error', reject)
      zip.on('end', () => resolve(undefined))
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!/^[^/]+\.dist-info\/METADATA$/.test(entry.fileName)) return zip.readEntry()
        zip.openReadStream(entry, (error, stream) => {
          if (error) return reject(error)
          const chunks: Buffer[] = []
          stream.on('data', (chunk: Buffer) => chunks.push(chunk))
          stream.on('error', reject)
          stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
        })
      })
      zip.readEntry()
    })
  } finally {
    zip.close()
  }
}
