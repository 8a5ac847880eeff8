import {Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {initProject, type InitResult} from '../src/init/scaffold.js'

export default class Init extends LayersCommand {
  static override summary = 'Write a commented starter layers.yaml.'

  static override description = `Creates layers.yaml (or the file --manifest names) from the starter template: settings, one account, an npm layer and a function using it, with every other option shown in comments. Also creates src/hello/index.js when it is missing. Refuses to overwrite an existing manifest.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Start a project in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Write the manifest elsewhere', command: '<%= config.bin %> <%= command.id %> --manifest services/orders/layers.yaml'},
  ]

  static override flags = {
    'schema-url': Flags.string({description: 'URL or path of the JSON Schema for the yaml-language-server comment (default: the installed schema).'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const result = await initProject(this.manifestPath(flags), {schemaUrl: flags['schema-url']})
    this.out(() => `Created ${result.created.join(', ')}.\nNext: edit the accounts, then run \`layers validate\` and \`layers lock\`.`)
    return result
  }
}
