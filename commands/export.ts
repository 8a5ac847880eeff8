import {Flags} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import {exportCommand, type ExportResult} from '../src/export/command.js'
import {EXPORT_FORMATS} from '../src/export/plan.js'
import {renderExport} from '../src/export/render.js'

export default class Export extends LayersCommand {
  static override summary = 'Write the locked layer ARNs where Terraform, CloudFormation, CDK and Serverless read them.'

  static override description = `Reads the version ARNs lockfile.json records for each own layer, account, region and architecture (an artifact built for both architectures counts for each) and writes them in the form each tool reads natively (README, "Infrastructure as code", has a snippet per tool):

terraform: layers.auto.tfvars.json, the map variable layer_arns indexed [layer][account id][region][architecture].
cloudformation: into the --output directory, layers-ACCOUNT-REGION.parameters.json per account and region ([{ParameterKey, ParameterValue}], for --parameters / --parameter-overrides file://), keys such as LayerCommonArm64, and layers.ssm-references.json with the {{resolve:ssm:NAME}} dynamic reference of each key.
cdk: cdk.context.json, keys layers:layer=L:account=A:region=R:architecture=X (read with tryGetContext); the file's other keys are kept.
serverless: layers.serverless.yml, a fragment for custom: of \${ssm:NAME} variables.
json: layers.export.json, every entry with its ARN, version, CodeSha256 and SSM parameter name.

The SSM names follow settings.ssm.parameterName (default /layers/{layer}/{channel}/{architecture}). Files are sorted and carry no timestamps, so the same lock gives the same bytes; each is written atomically, and not at all when it already holds them. Nothing is read from AWS. With --account and --region only those targets are exported; none published there is ERR_LAYERS_EXPORT_NOTHING_PUBLISHED (exit 2).

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Terraform variables for every published target', command: '<%= config.bin %> <%= command.id %> --format terraform'},
    {description: 'CloudFormation parameter files for prod in us-east-1, into a directory', command: '<%= config.bin %> <%= command.id %> --format cloudformation --account prod --region us-east-1 --output cfn'},
    {description: 'CDK context, merged into cdk.context.json', command: '<%= config.bin %> <%= command.id %> --format cdk'},
    {description: 'Serverless ${ssm:} variables as JSON output', command: '<%= config.bin %> <%= command.id %> --format serverless --output serverless-layers.yml --json'},
  ]

  static override flags = {
    format: Flags.string({description: 'What to write.', options: [...EXPORT_FORMATS], required: true}),
    account: Flags.string({char: 'a', description: 'Manifest account name or id (repeatable); default: every account.', multiple: true}),
    region: Flags.string({char: 'r', description: 'Region (repeatable); default: every region.', multiple: true}),
    channel: Flags.string({description: 'The channel whose versions to export, for layers that declare channels (default: `default`, the one channel of layers that declare none).'}),
    output: Flags.string({char: 'o', description: 'The file to write (cloudformation: the directory); default: the format\'s usual file name in the current directory.'}),
  }

  async run(): Promise<ExportResult> {
    const {flags} = await this.parse(Export)
    const result = await exportCommand({
      manifestPath: this.manifestPath(flags),
      format: flags.format as (typeof EXPORT_FORMATS)[number],
      ...(flags.account ? {accounts: flags.account} : {}),
      ...(flags.region ? {regions: flags.region} : {}),
      ...(flags.output ? {output: flags.output} : {}),
      ...(flags.channel ? {channel: flags.channel} : {}),
    })
    this.out(() => renderExport(result))
    return result
  }
}
