// The entry bin/run.js loads from the bundle (scripts/bundle-cli.mjs): oclif's `run`, from the same
// bundled @oclif/core the command modules use, so the process loads and configures oclif once. What
// fails outside a command's own catch (an unknown command, oclif's help for an unknown one, a
// command that cannot load) is rendered here by the same renderer as every other error
// (src/cli/render.ts), never by oclif's ` ›   Error:`.
import {Errors, flush, run} from '@oclif/core'
import {LayersError, toLayersError} from '../errors/index.js'
import {argvHasFlag, DEBUG_FLAG, JSON_FLAG} from './argv.js'
import {writeError} from './render.js'
import {isParseError, usageError} from './usage.js'

// On Node 20 every AWS SDK client warns, in eight lines on stderr, that SDK releases from 2027 need
// Node 22. The SDK version is ours to pin (package-lock.json), not the user's, so the CLI turns the
// warning off with the SDK's documented switch unless the user set it. `layers run` passes functions
// an allowlisted environment, so they do not inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export async function execute(options: {dir: string; args?: string[]}): Promise<void> {
  const argv = options.args ?? process.argv.slice(2)
  try {
    await run(argv, options.dir)
    await flush()
  } catch (caught) {
    // A command's catch has already rendered (and flushed) its error and asked for this exit code;
    // as oclif's own handler, exit now: a keep-alive socket or a retry timer must not hold it back.
    if (caught instanceof Errors.ExitError) process.exit(caught.oclif.exit ?? 1)
    const error = caught instanceof LayersError ? caught : caught instanceof Error && isParseError(caught) ? usageError(caught, {}) : toLayersError(caught)
    await writeError(error, {json: argvHasFlag(argv, JSON_FLAG), debug: Boolean(process.env.LAYERS_DEBUG) || argvHasFlag(argv, DEBUG_FLAG)})
    // As oclif's own handler: nothing left running (a keep-alive socket) may hold the exit back.
    process.exit(error.exitCode)
  }
}
