import {Args} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import type {BuiltArtifact} from '../src/build/build.js'
import {renderBuildTable} from '../src/build/render.js'
import {buildProject} from '../src/build/run.js'
import {LayersError, type Problem} from '../src/errors/index.js'

export default class Build extends LayersCommand {
  static override summary = 'Build deterministic layer zips from the lockfile.'

  static override description = `Builds every artifact of the named own layers (all npm, dir and runtime layers when none are named) from lockfile.json only, like \`npm ci\`: when the manifest no longer matches the lock it stops and asks for \`layers lock\`. npm layers are laid out as nodejs/node_modules/..., install scripts are never run, and the default prune list plus the layer's \`exclude\` globs leave out files functions do not load. The same lock gives byte-identical zips (same CodeSha256) on any machine; an unchanged artifact comes from the build cache in .layers/build without network access.

Prints one row per artifact: layer, architectures, packages, files, unzipped and zip size, and CodeSha256 (base64, as Lambda reports it). Warns above 80% of Lambda's 262,144,000-byte unzipped limit and fails (exit 1) above it.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Build every own layer of layers.yaml', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Build two layers and print the result as JSON', command: '<%= config.bin %> <%= command.id %> common config --json'},
    {description: 'Name the manifest by its path (lockfile.json and .layers/ are beside it; LAYERS_MANIFEST does the same)', command: '<%= config.bin %> <%= command.id %> --manifest ./layers.yaml'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layer names from the manifest (default: all own layers).', required: false}),
  }

  async run(): Promise<{artifacts: BuiltArtifact[]; warnings: Problem[]}> {
    const {argv, flags} = await this.parse(Build)
    try {
      const artifacts = await buildProject({manifestPath: this.manifestPath(flags), layers: argv as string[], emit: this.reporter.emit, signal: this.interruptSignal})
      this.reporter.done()
      this.out(() => renderBuildTable(artifacts))
      return {artifacts, warnings: this.reporter.warnings}
    } catch (error) {
      if (error instanceof LayersError && error.code === 'ERR_LAYERS_LAYER_TOO_LARGE') {
        this.reporter.done()
        this.out(() => renderBuildTable(error.details.artifacts as BuiltArtifact[]))
      }
      throw error
    }
  }
}
