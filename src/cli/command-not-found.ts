// Owns oclif's `command_not_found` hook (package.json `oclif.hooks`, bundled into dist/cli): an
// unknown command is ERR_LAYERS_UNKNOWN_COMMAND with did-you-mean, rendered by src/cli/main.ts.
import type {Hook} from '@oclif/core'
import {unknownCommandError} from './usage.js'

const hook: Hook<'command_not_found'> = async function ({id, config}) {
  throw unknownCommandError(config.bin, id, config.commandIDs)
}

export default hook
