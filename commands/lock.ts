import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import type {Problem} from '../src/errors/index.js'
import {lockProject, type LockProjectResult} from '../src/lock/lock-project.js'
import {renderLockCheck, renderLockResult} from '../src/lock/render.js'

export default class Lock extends LayersAwsCommand {
  static override summary = 'Resolve the layers of the manifest into lockfile.json.'

  static override description = `Resolves each layer and writes lockfile.json (atomically; untouched when nothing changed). npm layers are resolved like \`npm install\` for production, for the Lambda platform rather than this machine: Linux, glibc, x64 for x86_64 and arm64 for arm64. Dependencies are hoisted like npm and nested on version conflicts, peer dependencies are installed as npm 7+ does, optional dependencies that are unavailable or made for another platform are skipped quietly, bundled dependencies are kept, and every installed package is recorded with its path in node_modules, version, tarball URL and integrity. A layer whose tree is the same for both architectures gets one artifact (arm64+x86_64), otherwise one per architecture. Warns about packages whose engines.node the layer's runtimes do not satisfy, and about install scripts (never run).

Registry, scoped registries, auth tokens and the npm cache come from .npmrc (project, then user) and npm_config_* variables, as npm reads them; tokens are never written to the lock or printed.

Without LAYER, every layer whose lock no longer matches the manifest is resolved (layers gone from the manifest are dropped); named layers are resolved again. Locked versions that still satisfy their ranges are kept. --update moves the named layers (all layers without a name), or one package with LAYER/PACKAGE, to the newest versions their ranges allow.

--check (for CI, like \`npm ci\`, \`pnpm install --frozen-lockfile\` or \`cargo build --locked\`) resolves exactly as the same command without it would, writes nothing, and exits 1 when lockfile.json is missing or would change, listing per layer what would change (manifest entry, artifact, package version, integrity or tarball, runtime binary, pinned ARN, publication record; all of it under \`changes\` with --json).

${AWS_CONVENTIONS_HELP}

${EXIT_CODES_HELP} With --check, exit 1 also when lockfile.json is not up to date.`

  static override examples = [
    {description: 'Lock every layer that changed in layers.yaml', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Resolve one layer again and print the result as JSON', command: '<%= config.bin %> <%= command.id %> common --json'},
    {description: 'Move every package of every layer to the newest matching version', command: '<%= config.bin %> <%= command.id %> --update'},
    {description: 'Move one package of the layer common to its newest matching version', command: '<%= config.bin %> <%= command.id %> --update common/zod'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layer names (LAYER/PACKAGE with --update); default: every layer.', required: false}),
  }

  static override flags = {
    update: Flags.boolean({
      description: 'Move the named layers or LAYER/PACKAGE (everything when none is named) to the newest versions their ranges allow, instead of keeping locked versions.',
      default: false,
    }),
    check: Flags.boolean({
      description: 'Write nothing; exit 1 with the differences when lockfile.json is missing or would change (for CI).',
      default: false,
    }),
  }

  async run(): Promise<LockProjectResult & {warnings: Problem[]}> {
    const {argv, flags} = await this.parse(Lock)
    const result = await lockProject({manifestPath: this.manifestPath(flags), targets: argv as string[], update: flags.update, check: flags.check, emit: this.reporter.emit, signal: this.interruptSignal, aws: this.awsConnection(flags)})
    this.reporter.done()
    this.out(() => (flags.check ? renderLockCheck(result) : renderLockResult(result)))
    if (flags.check && !result.upToDate) {
      process.exitCode = 1
      process.stderr.write(`Error [ERR_LAYERS_LOCK_OUTDATED]: ${result.lockfile} is ${result.changes.length > 0 ? `out of date (${result.changes.length} layer(s) would change)` : 'missing'}.\nHint: Run \`layers lock\` and commit lockfile.json.\n`)
    }
    return {...result, warnings: this.reporter.warnings}
  }
}
