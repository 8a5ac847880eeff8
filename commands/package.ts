import {Args, Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {LayersError, type Problem} from '../src/errors/index.js'
import {packageProject, type PackagedFunction, type PackageResult} from '../src/package/package.js'
import {renderPackageTable} from '../src/package/render.js'

export default class Package extends LayersCommand {
  static override summary = 'Write thin, deterministic function zips checked against their layers.'

  static override description = `Writes one zip per function (all functions when none are named) holding only its own code from \`source\`: never node_modules, nothing a .layersignore at the source root (gitignore syntax) or the function's \`exclude\` globs leave out, nothing outside \`source\` (links leading out are refused). The bytes follow the layer zip rules, so the same code gives the same CodeSha256 anywhere. Zips go to .layers/package/<function>.zip (or --out).

First checks every import of every .js/.mjs/.cjs file against the function's layers from lockfile.json: a bare specifier must be a Node.js builtin, the AWS SDK v3 of nodejs18.x+ (a warning: AWS picks its version), a package of one of the function's layers, or a file of the function; subpaths must be exported by the package. For a python3.x function every import of every .py file must be a module of the function, a top-level module of its layers (python/ and python/lib/pythonX.Y/site-packages/), the runtime's standard library, or boto3/botocore and their dependencies (a warning); relative imports must name files of the function; imports under try/except ImportError are warnings. An import nothing provides fails the command with file:line:column and the layer that could provide it, before any zip is written; so does a handler whose file is missing or does not export it. A package.json range the layer's version does not satisfy is a warning. Layer content is read from the built zips (\`layers build\`), else from the lockfile or the layer directory. A package or file provided twice (by two layers, by nodejs/nodeNN/node_modules and nodejs/node_modules, or by the function's own node_modules, which is never packaged) is reported with the copy Lambda loads; copies that differ in version or in the architecture of their native binaries fail the command before any zip is written (exit 2; a warning under --no-check).

Prints, per function, the zip and unzipped sizes, its layers, the total against Lambda's 262,144,000-byte unzipped limit (over it: exit 1), and the "fat" zip it replaces (the code plus its layers' node_modules).

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Package every function of layers.yaml', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Package two functions into dist/ and print JSON', command: '<%= config.bin %> <%= command.id %> api scheduler --out dist --json'},
    {description: 'Package without the import check', command: '<%= config.bin %> <%= command.id %> --no-check'},
  ]

  static override strict = false

  static override args = {
    function: Args.string({description: 'Function keys from the manifest (default: all).', required: false}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'Directory for the zips (default: .layers/package next to the manifest).'}),
    check: Flags.boolean({description: 'Check imports against the layers first.', default: true, allowNo: true}),
  }

  async run(): Promise<PackageResult & {warnings: Problem[]}> {
    const {argv, flags} = await this.parse(Package)
    try {
      const result = await packageProject({manifestPath: this.manifestPath(flags), functions: argv as string[], outDir: flags.out, check: flags.check, emit: this.reporter.emit, signal: this.interruptSignal})
      this.reporter.done()
      this.out(() => renderPackageTable(result.functions))
      return {...result, warnings: this.reporter.warnings}
    } catch (error) {
      if (error instanceof LayersError && error.code === 'ERR_LAYERS_FUNCTION_TOO_LARGE') {
        this.reporter.done()
        this.out(() => renderPackageTable(error.details.functions as PackagedFunction[]))
      }
      throw error
    }
  }
}
