import {Args, Command, loadHelpClass} from '@oclif/core'
import {unknownCommandError} from '../src/cli/usage.js'

export default class HelpCommand extends Command {
  static override summary = 'Show help for layers or for one of its commands.'

  static override description = 'The same as `layers --help` or `layers COMMAND --help` (also `-h`).'

  static override examples = [
    {description: 'What layers can do', command: '<%= config.bin %> help'},
    {description: 'The flags and examples of audit', command: '<%= config.bin %> help audit'},
  ]

  static override args = {
    command: Args.string({description: 'Command to show help for.', required: false}),
  }

  static override strict = false

  async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand)
    const id = (argv as string[]).join(':')
    if (id !== '' && !this.config.findCommand(id) && !this.config.findTopic(id)) throw unknownCommandError(this.config.bin, id, this.config.commandIDs)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config, {all: true}).showHelp(argv as string[])
  }
}
