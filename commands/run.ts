import {Args, Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {flagValueError} from '../src/cli/usage.js'
import {quoteValue} from '../src/errors/index.js'
import {ARCHITECTURES, type Architecture} from '../src/manifest/types.js'
import {DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, readEvent, runFunction, type RunResult} from '../src/run/run.js'

export default class Run extends LayersCommand {
  static override summary = 'Invoke a function locally, assembled from its built layers exactly as Lambda lays it out.'

  static override description = `Assembles the function in a temp directory as Lambda does: each of its layers' built zips (from \`layers build\`, for the current lock) extracted into opt/ in the function's layer order, a later layer's file replacing an earlier one's, and the function's package (what \`layers package\` zips) in task/. Then starts the runtime against a local Lambda Runtime API with the variables Lambda sets (_HANDLER, LAMBDA_TASK_ROOT, NODE_PATH, AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, AWS_LAMBDA_RUNTIME_API ...; /opt and /var/task stand for the temp directories) and sends one event. nodejs*.x functions run on the local Node.js, with ES module imports from layers resolved as on Lambda; python3.x functions on the local Python (--python, else LAYERS_PYTHON, else python3 on PATH; a warning when its version is not the runtime's) with sys.path as Lambda orders it: the function, then /opt/python/lib/pythonX.Y/site-packages and /opt/python, then the standard library (no host site-packages); provided.* functions run their bootstrap (from the package root, else from a layer).

Prints the handler's result on stdout, or Lambda's error document when it throws, fails to load, times out or exits (Node.js: errorType, errorMessage, trace; Python: errorMessage, errorType, requestId, stackTrace); the function's own output goes to stderr. ARN layers cannot be fetched and are left out (with a warning). The AWS SDK that the managed runtimes ship (boto3 for Python) is not available locally.

${EXIT_CODES_HELP} A function that fails (its error document printed) exits 1; layers not built for the current lock exit 2 (run \`layers build\`).`

  static override examples = [
    {description: 'Invoke the api function with an event file', command: '<%= config.bin %> <%= command.id %> api --event examples/events/api-order.json'},
    {description: 'Read the event from stdin and print the result as JSON', command: 'echo \'{"every":"5m"}\' | <%= config.bin %> <%= command.id %> scheduler --event - --json'},
    {description: 'Render a thumbnail with sharp (native, from the images layer built for x86_64)', command: '<%= config.bin %> <%= command.id %> thumbnails --event examples/events/thumbnail.json'},
    {description: 'Run the arm64 function api on its x86_64 artifacts, with a 10-second timeout and a variable', command: '<%= config.bin %> <%= command.id %> api --arch x86_64 --timeout 10 --env STAGE=prod --event examples/events/api-order.json'},
  ]

  static override args = {
    function: Args.string({description: 'Function key from the manifest.', required: true}),
  }

  static override flags = {
    event: Flags.string({char: 'e', description: 'JSON event file, or - for stdin (default: {}).'}),
    arch: Flags.string({description: "Architecture whose layer artifacts to use (default: the function's).", options: [...ARCHITECTURES]}),
    timeout: Flags.integer({description: `Function timeout in seconds (Lambda's default: ${DEFAULT_TIMEOUT_SECONDS}).`, default: DEFAULT_TIMEOUT_SECONDS, min: 1, max: 900}),
    memory: Flags.integer({description: 'Memory size reported to the function, in MB.', default: DEFAULT_MEMORY_MB, min: 128, max: 10240}),
    env: Flags.string({description: 'Function environment variable KEY=VALUE (repeatable).', multiple: true}),
    keep: Flags.boolean({description: 'Keep the assembled directory and print its path.', default: false}),
    python: Flags.string({description: 'Python interpreter for python3.x functions (default: $LAYERS_PYTHON, else python3 on PATH).'}),
  }

  async run(): Promise<RunResult> {
    const {args, flags} = await this.parse(Run)
    const env: Record<string, string> = {}
    for (const pair of flags.env ?? []) {
      const equals = pair.indexOf('=')
      if (equals <= 0) throw flagValueError('env', `${quoteValue(pair)} is not KEY=VALUE.`, 'Pass each variable as --env NAME=value.')
      env[pair.slice(0, equals)] = pair.slice(equals + 1)
    }
    const result = await runFunction({
      manifestPath: this.manifestPath(flags),
      function: args.function,
      event: await readEvent(flags.event),
      architecture: flags.arch as Architecture | undefined,
      timeoutSeconds: flags.timeout,
      memoryMb: flags.memory,
      env,
      keep: flags.keep,
      python: flags.python,
      emit: this.reporter.emit,
      logs: process.stderr,
    })
    this.reporter.done()
    this.out(() => result.payloadEncoding === 'text' ? String(result.payload) : JSON.stringify(result.payload))
    if (!this.jsonEnabled() && (!this.quietEnabled() || result.functionError)) {
      process.stderr.write(`${result.functionError ? `Function error (${result.status}). ` : ''}RequestId ${result.requestId}, ${result.durationMs} ms${result.directory ? `, assembled in ${result.directory}` : ''}.\n`)
    }
    if (result.functionError) process.exitCode = 1
    return result
  }
}
