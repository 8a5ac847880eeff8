import {Args, Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import type {Problem} from '../src/errors/index.js'
import type {SizeReport} from '../src/size/plan.js'
import {renderSize} from '../src/size/render.js'
import {sizeProject} from '../src/size/run.js'

export default class Size extends LayersCommand {
  static override summary = 'Show where the bytes of layers and functions go, against Lambda\'s size limit.'

  static override description = `For each layer artifact named (every own layer when no name is given): its bytes unzipped and zipped, and every package's (npm packages by their node_modules folder, Python top-level packages and modules, other layers by top-level entry), biggest first. For each function named (every function when no name is given): its code plus all its layers against Lambda's 262,144,000-byte unzipped limit, its biggest packages, the packages two of its layers put at the same place in /opt (the later layer's copy wins, as Lambda extracts layers in order; "different copies" when version or size differ), and the packages its runtime already provides (the AWS SDK v3 on nodejs18.x and later; boto3, botocore, s3transfer and jmespath on Python), with the \`exclude\` globs that leave them out of the layer.

Reads the zips \`layers build\` made for the current lock: a layer not built has unknown sizes (a warning). Changes nothing.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Every layer and function', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One layer and one function, the 5 biggest packages each, as JSON', command: '<%= config.bin %> <%= command.id %> common api --top 5 --json'},
  ]

  static override strict = false

  static override args = {
    name: Args.string({description: 'Layer names and function keys (default: every own layer and function).'}),
  }

  static override flags = {
    top: Flags.integer({description: 'How many packages each list shows, biggest first.', default: 10, min: 1, max: 100_000}),
  }

  async run(): Promise<SizeReport & {warnings: Problem[]}> {
    const {argv, flags} = await this.parse(Size)
    const report = await sizeProject({manifestPath: this.manifestPath(flags), names: argv as string[], top: flags.top, emit: this.reporter.emit})
    this.reporter.done()
    this.out(() => renderSize(report))
    return {...report, warnings: this.reporter.warnings}
  }
}
