// Owns `layers export` end to end for the command: loads the manifest and the lockfile, picks the
// accounts and regions asked (--account, --region), plans the files (src/export/plan.ts) and writes
// each atomically beside its target (src/fsutil), leaving a file that already holds the same bytes
// untouched. Single-file formats write --output (a file; default the format's usual name in the
// current directory); cloudformation writes its files into --output as a directory.
import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import {writeFileAtomically} from '../fsutil/atomic.js'
import {readLockfile} from '../lock/io.js'
import {loadManifest} from '../manifest/load.js'
import {selectAccounts, selectRegions} from '../manifest/select.js'
import {projectPaths} from '../project/paths.js'
import {DEFAULT_FILES, exportEntries, renderExport, type ExportFormat} from './plan.js'

export interface ExportCommandOptions {
  manifestPath: string
  format: ExportFormat
  accounts?: string[]
  regions?: string[]
  /** A file (a directory for cloudformation); relative to `cwd`. */
  output?: string
  cwd?: string
  /** The channel whose versions to export (default: the implicit channel of layers without channels). */
  channel?: string
}

export interface ExportResult {
  format: ExportFormat
  /** Layer, account, region and architecture entries exported. */
  entries: number
  /** Each file, and whether it was written (false: it already held these bytes). */
  files: Array<{path: string; written: boolean}>
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

export async function exportCommand(options: ExportCommandOptions): Promise<ExportResult> {
  const paths = projectPaths(options.manifestPath)
  const manifest = await loadManifest(paths.manifest)
  const lock = await readLockfile(paths.lockfile)
  if (!lock) {
    throw new UserInputError('ERR_LAYERS_LOCK_MISSING', `${paths.lockfile} does not exist.`, {hint: 'Run `layers lock` and `layers publish` first; `layers export` writes the ARNs the lockfile records.'})
  }
  const named = options.accounts && options.accounts.length > 0
  const accounts = selectAccounts(manifest, options.accounts)
  const regions = selectRegions(manifest, accounts, options.regions)
  const asked = [
    named ? `account${accounts.length === 1 ? '' : 's'} ${accounts.map((account) => `${account.name} (${account.id})`).join(', ')}` : 'any account',
    regions ? `region${regions.length === 1 ? '' : 's'} ${regions.join(', ')}` : 'any region',
  ].join(', ')
  const entries = exportEntries(manifest, lock, {...(named ? {accountIds: accounts.map((account) => account.id)} : {}), ...(regions ? {regions} : {}), asked, ...(options.channel ? {channel: options.channel} : {})})
  const cwd = options.cwd ?? process.cwd()
  const target = path.resolve(cwd, options.output ?? (options.format === 'cloudformation' ? '.' : DEFAULT_FILES[options.format]))
  const kind = await stat(target).then((info) => (info.isDirectory() ? 'directory' : 'file'), () => undefined)
  const wanted = options.format === 'cloudformation' ? 'directory' : 'file'
  if (kind !== undefined && kind !== wanted) {
    throw new UserInputError('ERR_LAYERS_EXPORT_OUTPUT_INVALID', `--output ${target} is a ${kind}; --format ${options.format} writes ${wanted === 'file' ? 'one file' : 'several files into a directory'}.`, {
      hint: wanted === 'file' ? `Name a file, e.g. --output ${path.join(options.output ?? '.', DEFAULT_FILES[options.format as keyof typeof DEFAULT_FILES])}.` : 'Name a directory (it is created when missing).',
    })
  }
  const existing = options.format === 'cdk' ? await readIfExists(target) : undefined
  const files = renderExport(options.format, entries, existing === undefined ? undefined : {file: target, text: existing})
  const written: ExportResult['files'] = []
  for (const file of files) {
    const out = file.name === '' ? target : path.join(target, file.name)
    const same = (await readIfExists(out)) === file.text
    if (!same) await writeFileAtomically(out, file.text)
    written.push({path: out, written: !same})
  }
  return {format: options.format, entries: entries.length, files: written}
}
