// Owns what every command shares: the global flags (--json, --manifest, --debug, --quiet; and for the
// commands that talk to AWS, LayersAwsCommand, those of src/cli/aws-flags.ts), the event reporter,
// and error rendering (oclif's parse errors included, src/cli/usage.ts) with the documented exit
// codes (0 ok, 1 operational failure or findings, 2 invalid input).
import {Command, Flags, Errors, Interfaces} from '@oclif/core'
import path from 'node:path'
import {LayersError, toLayersError} from '../errors/index.js'
import {argvHasFlag, DEBUG_FLAG, QUIET_FLAG} from './argv.js'
import {awsConnection, awsFlags, type AwsFlagValues, type ConfirmedTargetFlagValues, type FunctionChangeFlagValues} from './aws-flags.js'
import {terminalConfirm} from './confirm.js'
import {budgetText, runBudget} from '../aws/request-budget.js'
import type {AwsConnection} from '../aws/clients.js'
import {writeError} from './render.js'
import {installInterrupt, type Interrupt} from './interrupt.js'
import {isJsonOutputName, withSchemaVersion} from './json-output.js'
import {createReporter, type Reporter} from './reporter.js'
import {isParseError, usageError} from './usage.js'

export {written} from './render.js'

export const EXIT_CODES_HELP = 'Exit codes: 0 success, 1 operational failure, 2 invalid input, 130 interrupted (Ctrl-C; 143 for SIGTERM).'

export abstract class LayersCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    manifest: Flags.string({
      char: 'm',
      description: 'Path to the manifest.',
      default: 'layers.yaml',
      helpGroup: 'GLOBAL',
      env: 'LAYERS_MANIFEST',
    }),
    debug: Flags.boolean({
      description: 'On an error, print the stack traces too (the same as LAYERS_DEBUG=1).',
      helpGroup: 'GLOBAL',
    }),
    // The AWS CLI's --no-cli-pager keeps its output plain for scripts; layers has no pager, and what
    // scripts and CI logs want gone is the progress and the chatter, so the flag is cargo's, git's and
    // pip's -q/--quiet (npm's --quiet likewise still shows warnings).
    quiet: Flags.boolean({
      char: 'q',
      description: 'No progress and no notices on stderr (results, warnings and errors are still shown).',
      helpGroup: 'GLOBAL',
    }),
  }

  private reporterInstance?: Reporter

  /** The reporter for this run: progress to stderr on a TTY, warnings collected for --json. */
  protected get reporter(): Reporter {
    this.reporterInstance ??= createReporter({json: this.jsonEnabled(), quiet: this.quietEnabled(), ...(this.progressSuffix ? {progressSuffix: this.progressSuffix} : {})})
    return this.reporterInstance
  }

  /** What every progress line ends with (the AWS commands: the request budget in use). */
  protected progressSuffix?: () => string | undefined

  private interruptInstance?: Interrupt

  /**
   * The run's interrupt signal. Asking for it installs the SIGINT/SIGTERM handlers (src/cli/interrupt.ts),
   * so only commands whose services honour it stop cleanly; the others keep Node's default (exit at once).
   */
  protected get interruptSignal(): AbortSignal {
    this.interruptInstance ??= installInterrupt()
    return this.interruptInstance.signal
  }

  /** --quiet (read from argv, so it holds before and while the flags are parsed). */
  protected quietEnabled(): boolean {
    return argvHasFlag(this.argv, QUIET_FLAG)
  }

  /** --debug or LAYERS_DEBUG: errors come with their stack traces. */
  protected debugEnabled(): boolean {
    return Boolean(process.env.LAYERS_DEBUG) || argvHasFlag(this.argv, DEBUG_FLAG)
  }

  /** Absolute path of the manifest named by --manifest. */
  protected manifestPath(flags: {manifest: string}): string {
    return path.resolve(flags.manifest)
  }

  /**
   * Prints human output on stdout unless --json is on (then the returned value is the output); `render`
   * runs only when the text is printed, so --json never loads or runs the table code.
   */
  protected out(render: () => string): void {
    if (this.jsonEnabled()) return
    const text = render()
    process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /**
   * The --json output: `schemaVersion` (src/cli/json-output.ts) first, then the command's result. A
   * command missing there prints its result as is (test/schema/json-output.e2e.test.ts fails for it).
   */
  /**
   * Plain JSON, never coloured: oclif's logJson colourizes by re-slicing the whole text at every token,
   * which takes seconds for an output of a few megabytes (an audit of a big fleet, `layers find`).
   */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  protected override toSuccessJson(result: object): unknown {
    const name = this.id ?? ''
    return isJsonOutputName(name) ? withSchemaVersion(name, result) : result
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    this.reporterInstance?.done()
    if (err instanceof Errors.ExitError) throw err
    const error = this.toError(err)
    await writeError(error, {json: this.jsonEnabled(), debug: this.debugEnabled()})
    return this.exit(error.exitCode)
  }

  /** Any failure as the LayersError it is reported as: oclif's parse errors (exit 2) with their reason. */
  protected toError(err: Error & {oclif?: {exit?: number}}): LayersError {
    if (err instanceof LayersError) return err
    if (isParseError(err)) {
      const ctor = this.constructor as typeof LayersCommand
      return usageError(err, {...ctor.baseFlags, ...ctor.flags, json: {}})
    }
    return toLayersError(err)
  }

  /**
   * Reports a run that finished but failed for some targets (its result printed, exit 1): the same
   * renderer as every other error, after the result.
   */
  protected async reportFailure(error: LayersError): Promise<void> {
    process.exitCode = error.exitCode
    await writeError(error, {json: false, debug: this.debugEnabled()})
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.reporterInstance?.done()
    this.interruptInstance?.dispose()
    return super.finally(err)
  }
}

export type InferredFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof LayersCommand)['baseFlags'] & T['flags']>

/** The base of every command that talks to AWS: the global AWS flags (src/cli/aws-flags.ts) besides the others. */
export abstract class LayersAwsCommand extends LayersCommand {
  static override baseFlags = {...LayersCommand.baseFlags, ...awsFlags}

  /** How this run reaches AWS (--profile, --endpoint-url, the timeouts), for the command's service. */
  protected awsConnection(flags: AwsFlagValues): AwsConnection {
    return awsConnection(flags)
  }

  /** The targets, --dry-run and the confirmation (asked on the terminal unless --yes) a command that asks before some writes hands its service (publish, deploy, attach). */
  protected confirmedTargetOptions(flags: ConfirmedTargetFlagValues) {
    return {
      manifestPath: this.manifestPath(flags),
      accounts: flags.account,
      regions: flags.region,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      confirm: terminalConfirm({yes: flags.yes, beforeAsk: () => this.reporter.done(), signal: this.interruptSignal}),
    }
  }

  /** What a command that changes functions (deploy, attach) hands its service from its FUNCTION arguments and their shared flags. */
  protected functionChangeOptions(argv: unknown[], flags: FunctionChangeFlagValues) {
    return {
      ...this.confirmedTargetOptions(flags),
      functions: argv as string[],
      emit: this.reporter.emit,
      ...this.awsConnection(flags),
      waitTimeoutMs: flags['wait-timeout'] * 1000,
      force: flags.force,
      signal: this.interruptSignal,
    }
  }

  /** Once a Lambda call was made: the run's request budget and its use (src/aws/request-budget.ts). */
  protected override progressSuffix = (): string | undefined => {
    const use = runBudget.use()
    return use.calls > 0 ? budgetText(use) : undefined
  }
}
