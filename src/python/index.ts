// Owns reading a project's files from a simple repository index: the PEP 691 JSON form
// (application/vnd.pypi.simple.v1+json) when the index offers it, else the PEP 503 HTML page
// (anchors with a #sha256= fragment, data-yanked, data-requires-python). Only what locking and
// `outdated` need: file name, absolute URL (without credentials), sha256, whether the file is yanked,
// its Requires-Python, and whether its core metadata is served beside it (PEP 658 / 714, for the
// licence, src/python/license.ts). Pages are read through download.ts (retries, timeouts, the
// credentials of the configured index in an Authorization header, never in a URL that could be recorded). Which index's listing counts for a project (the first in uv's
// order) is decided here, for the lock and for `layers outdated`.
import {OperationalError} from '../errors/index.js'
import type {EmitEvent} from '../events.js'
import type {PythonIndex, PythonIndexConfig} from './config.js'
import {certificateHint, IndexDownloadError, readFromIndex, type IndexResponse} from './download.js'

export interface IndexFile {
  filename: string
  url: string
  sha256?: string
  yanked: boolean
  /** The file's Requires-Python (PEP 345 / data-requires-python), when the index gives one. */
  requiresPython?: string
  /** The index serves the file's core metadata at `<url>.metadata` (PEP 658): its sha256 when given, else true. */
  coreMetadata?: {sha256: string} | true
}

export interface IndexClient {
  /** The files an index lists for a project; empty when the index does not have it (404). */
  files(index: PythonIndex, project: string): Promise<IndexFile[]>
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json'
/** A project page that has not arrived whole after this long fails the attempt, however steadily it arrives. */
const PAGE_TIMEOUT_MS = 60_000

function decodeHtml(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
}

/** PEP 691's `core-metadata` (or the older `dist-info-metadata`): true, or hashes; false or absent: not served. */
function coreMetadataOf(value: unknown): IndexFile['coreMetadata'] {
  if (value === true) return true
  if (value !== null && typeof value === 'object' && typeof (value as {sha256?: unknown}).sha256 === 'string') return {sha256: (value as {sha256: string}).sha256.toLowerCase()}
  return value !== null && typeof value === 'object' ? true : undefined
}

/** PEP 714's `data-core-metadata` (or `data-dist-info-metadata`) attribute: "true" or "sha256=HEX"; "false" or absent: not served. */
function coreMetadataAttribute(attributes: string): IndexFile['coreMetadata'] {
  const match = /data-(?:core|dist-info)-metadata\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attributes)
  if (!match) return undefined
  const value = decodeHtml(match[1] ?? match[2]!).trim()
  if (value === 'false') return undefined
  const sha256 = /^sha256=([0-9a-fA-F]{64})$/.exec(value)?.[1]
  return sha256 ? {sha256: sha256.toLowerCase()} : true
}

function fileFrom(filename: string, href: string, base: string, sha256: string | undefined, yanked: boolean, requiresPython: string | undefined, coreMetadata: IndexFile['coreMetadata']): IndexFile {
  const url = new URL(href, base)
  const hash = url.hash.startsWith('#sha256=') ? url.hash.slice('#sha256='.length) : undefined
  url.hash = ''
  url.username = ''
  url.password = ''
  return {filename, url: url.toString(), sha256: (sha256 ?? hash)?.toLowerCase(), yanked, ...(requiresPython ? {requiresPython} : {}), ...(coreMetadata ? {coreMetadata} : {})}
}

export function parseIndexPage(body: string, contentType: string, base: string): IndexFile[] {
  if (contentType.includes('json')) {
    const data = JSON.parse(body) as {files?: Array<{filename: string; url: string; hashes?: {sha256?: string}; yanked?: boolean | string; 'requires-python'?: string | null; 'core-metadata'?: unknown; 'dist-info-metadata'?: unknown}>}
    return (data.files ?? []).map((file) =>
      fileFrom(file.filename, file.url, base, file.hashes?.sha256, file.yanked !== undefined && file.yanked !== false, file['requires-python'] ?? undefined, coreMetadataOf(file['core-metadata'] ?? file['dist-info-metadata'])),
    )
  }
  const files: IndexFile[] = []
  for (const match of body.matchAll(/<a\s([^>]*)>([^<]*)<\/a>/gi)) {
    const attributes = match[1]!
    const href = /href\s*=\s*"([^"]*)"|href\s*=\s*'([^']*)'/i.exec(attributes)
    if (!href) continue
    const requiresPython = /data-requires-python\s*=\s*"([^"]*)"|data-requires-python\s*=\s*'([^']*)'/i.exec(attributes)
    files.push(fileFrom(decodeHtml(match[2]!.trim()), decodeHtml(href[1] ?? href[2]!), base, undefined, /data-yanked/i.test(attributes), requiresPython ? decodeHtml(requiresPython[1] ?? requiresPython[2]!) : undefined, coreMetadataAttribute(attributes)))
  }
  return files
}

export interface IndexClientOptions {
  /** Where the waits before reading a page again are said. */
  emit?: EmitEvent | undefined
  fetcher?: typeof fetch
}

/**
 * An IndexClient over fetch, caching each page for its lifetime (one lock or `outdated` run). A page is
 * read like a wheel (download.ts): pip's retries and inactivity timeout, each wait said; a 404 is
 * "not on this index" at once.
 */
export function fetchIndexClient(config: PythonIndexConfig, options: IndexClientOptions = {}): IndexClient {
  const pages = new Map<string, Promise<IndexFile[]>>()
  return {
    files(index, project) {
      const page = `${index.public}${project}/`
      let files = pages.get(page)
      if (!files) {
        files = (async () => {
          let response: IndexResponse
          try {
            response = await readFromIndex(page, config, {what: `the page of ${project} on ${index.public}`, accept: `${JSON_TYPE}, text/html;q=0.1`, totalTimeoutMs: PAGE_TIMEOUT_MS, emit: options.emit, fetcher: options.fetcher})
          } catch (error) {
            if (!(error instanceof IndexDownloadError)) throw error
            if (error.statusCode === 404) return []
            const denied = error.statusCode === 401 || error.statusCode === 403
            throw new OperationalError('ERR_LAYERS_PYTHON_INDEX_UNREACHABLE', `Cannot read ${page}: ${error.message}.`, {
              hint: denied ? 'Put the index credentials in the index URL of pip.conf or uv.toml (https://user:token@host/simple/).' : (certificateHint(error) ?? 'Check the network and the index URL in pip.conf / uv.toml, or retry later (PIP_RETRIES / PIP_TIMEOUT set how long layers tries).'),
              cause: error,
            })
          }
          try {
            return parseIndexPage(response.body.toString('utf8'), response.contentType, response.url)
          } catch (error) {
            throw new OperationalError('ERR_LAYERS_PYTHON_INDEX_PAGE', `${page} is not a PEP 691 JSON or PEP 503 HTML project page: ${(error as Error).message}.`, {hint: 'Check that the index URL in pip.conf / uv.toml names a simple repository (…/simple/).', cause: error})
          }
        })()
        pages.set(page, files)
      }
      return files
    },
  }
}

/**
 * The files of a project from the first configured index that lists it, searched in uv's order (extra
 * indexes first, then the default one); undefined when no index has the project.
 */
export async function firstListing(config: PythonIndexConfig, client: IndexClient, project: string): Promise<{index: PythonIndex; files: IndexFile[]} | undefined> {
  const [primary, ...extras] = config.indexes
  for (const entry of [...extras, primary!]) {
    const files = await client.files(entry, project)
    if (files.length > 0) return {index: entry, files}
  }
  return undefined
}
