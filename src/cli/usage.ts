// Owns turning a command line oclif could not take (an unknown command, an unknown flag, a flag
// value its parser refused, a missing or extra argument) into the LayersError the one renderer
// (src/cli/render.ts) prints: one code per kind of problem, the reason oclif gave kept, and
// did-you-mean from the names that would have been valid. Exit 2.
import {UserInputError, quoteValue} from '../errors/index.js'
import {closest, didYouMean} from '../manifest/suggest.js'

const HELP_HINT = 'Run the command with --help to see its arguments, flags and examples.'

/** The command's flag definitions (oclif's), by name: suggestions need the names and `allowNo`. */
export type FlagDefinitions = Readonly<Record<string, unknown>>

/** `layers NAME` where no command is called NAME (ERR_LAYERS_UNKNOWN_COMMAND). */
export function unknownCommandError(bin: string, id: string, commandIds: readonly string[]): UserInputError {
  // With the space topic separator oclif joins the words it could not match with ':'.
  const typed = id.replaceAll(':', ' ')
  const first = typed.split(' ')[0] ?? typed
  const visible = commandIds.map((command) => command.replaceAll(':', ' ')).sort()
  const message = first.startsWith('-') ? `${quoteValue(first)} is a flag, not a command: name the command first, e.g. \`${bin} publish ${first}\`.` : `${bin} has no command ${quoteValue(first)}.${didYouMean(first, visible)}`
  return new UserInputError('ERR_LAYERS_UNKNOWN_COMMAND', message, {
    hint: `Commands: ${visible.join(', ')}. \`${bin} --help\` describes them.`,
    details: {command: first},
  })
}

/** Whether `error` is one of oclif's parse errors (exit 2; a flag's own parse function throws plain Errors that oclif prefixes). */
export function isParseError(error: Error & {oclif?: {exit?: number}}): boolean {
  return error.oclif?.exit === 2 || /^Parsing --[\w-]+ \n\t/.test(error.message)
}

/**
 * One of oclif's parse errors (exit 2) as a UserInputError. `flags` are the command's flags (to
 * suggest the one meant); anything else oclif refused keeps oclif's reason as the message.
 */
export function usageError(error: Error & {flags?: unknown; args?: unknown}, flags: FlagDefinitions): UserInputError {
  const message = plain(error.message).replace(/\s*See more help with --help\s*$/, '')
  if (Array.isArray(error.flags) && error.flags.every((flag) => typeof flag === 'string')) return unknownFlagError(error.flags as string[], flags)
  const parsing = /^Parsing --([\w-]+) \n\t([\s\S]*)$/.exec(message)
  if (parsing) return flagValueError(parsing[1]!, parsing[2]!.trim())
  const option = /^Expected --([\w-]+)=([\s\S]*) to be one of: ([\s\S]*)$/.exec(message)
  if (option) return flagValueError(option[1]!, `${quoteValue(option[2])} is not one of ${option[3]}.${didYouMean(option[2]!, option[3]!.split(', '))}`)
  const noValue = /^Flag --([\w-]+) expects (a value|one of these values: [\s\S]*)$/.exec(message)
  if (noValue) return flagValueError(noValue[1]!, `expects ${noValue[2]}, and none was given.`)
  if (/^Missing \d+ required args?/.test(message) && Array.isArray(error.args)) {
    const names = (error.args as Array<{name?: string; description?: string}>).map((arg) => `${(arg.name ?? '').toUpperCase()}${arg.description ? ` (${arg.description.replace(/\.$/, '')})` : ''}`)
    return new UserInputError('ERR_LAYERS_USAGE', `Missing the required argument${names.length === 1 ? '' : 's'} ${names.join(', ')}.`, {hint: HELP_HINT})
  }
  return new UserInputError('ERR_LAYERS_USAGE', oneLine(message), {hint: HELP_HINT})
}

/** A flag given a value it does not take (ERR_LAYERS_FLAG_VALUE); `reason` says why. */
export function flagValueError(flag: string, reason: string, hint = HELP_HINT): UserInputError {
  const text = oneLine(reason)
  return new UserInputError('ERR_LAYERS_FLAG_VALUE', `--${flag}: ${text.charAt(0).toLowerCase()}${text.slice(1)}${/[.?!]$/.test(text) ? '' : '.'}`, {hint, details: {flag}})
}

function unknownFlagError(typed: readonly string[], flags: FlagDefinitions): UserInputError {
  const names = Object.entries(flags).flatMap(([name, spec]) => [`--${name}`, ...((spec as {allowNo?: boolean}).allowNo ? [`--no-${name}`] : [])])
  const bare = typed.map((flag) => flag.split('=')[0]!)
  const message =
    bare.length === 1
      ? `Unknown flag ${quoteValue(bare[0])}.${didYouMean(bare[0]!, names)}`
      : `Unknown flags ${bare.map((flag) => {
          const match = closest(flag, names)
          return `${quoteValue(flag)}${match ? ` (did you mean "${match}"?)` : ''}`
        }).join(', ')}.`
  return new UserInputError('ERR_LAYERS_UNKNOWN_FLAG', message, {
    hint: message.includes('id you mean') || names.length === 0 ? HELP_HINT : `The flags of this command: ${names.join(', ')}. ${HELP_HINT}`,
    details: {flags: bare},
  })
}

/** oclif colours parts of some messages (dim reasons): the renderer adds no escapes of its own. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex -- ANSI escapes are what this removes
  return text.replace(/\u001B\[[0-9;]*m/g, '')
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ')
    .replace(/^The following errors? occurred: /, '')
}
