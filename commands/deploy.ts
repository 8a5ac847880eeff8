import {Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP, functionTargetArgs, ownedForceFlag, protectedYesFlag, targetFlags, waitTimeoutFlag} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {deployCommand} from '../src/deploy/command.js'
import {deployFailure, renderDeploy} from '../src/deploy/render.js'
import type {DeployResult} from '../src/deploy/run.js'

export default class Deploy extends LayersAwsCommand {
  static override summary = 'Put each function\'s code and its locked layers on Lambda; optionally publish a version and move an alias.'

  static override description = `For every named function (all when none are named), in each of its accounts and regions: the function is packaged as \`layers package\` does (the import check, then the thin zip), and compared with what Lambda has. When its CodeSha256 (base64 SHA-256 of the zip) differs, the zip is uploaded to the artifact bucket (settings.bucket) under a content-addressed key (<prefix>functions/<function>/<sha256>.zip; an object already there is not sent again; multipart above 8 MiB, so packages over Lambda's 50 MB direct-upload limit work) and UpdateFunctionCode takes it from S3 under the function's RevisionId (--direct-upload: the zip goes in UpdateFunctionCode itself and no bucket is used; a package over 50 MB is refused, exit 2, before any AWS call); deploy waits (bounded by --wait-timeout) for LastUpdateStatus Successful, then puts the locked layers on in one UpdateFunctionConfiguration, as \`layers attach\` does (same refusals, checked before the code moves). A function whose code and layers already match is not written to.

--publish publishes a version (PublishVersion with the package's CodeSha256 and the RevisionId as preconditions; none when a version with this code and these layers exists). --alias NAME (implies --publish) creates the alias or moves it to that version, recording the version it pointed at before in its description (what \`layers rollback\` moves it back to); --traffic N leaves the alias on its version and sends N% of its traffic to the new one (RoutingConfig); a later deploy without --traffic moves it all.

--image-uri ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:DIGEST deploys that container image to the one named function instead of its package: nothing is packaged or uploaded, UpdateFunctionCode takes the ImageUri (not when the function's CodeSha256 is that digest already), deploy waits for LastUpdateStatus Successful, and no layers are set (an Image function has none: they are in the image); --publish, --alias and --traffic work as for zips. The image is named by digest: a tag is refused (exit 2), as it can move to another image between deploy's read and its write. Lambda takes images from ECR in the function's region only, and never changes a function's package type: a Zip function is refused (exit 2) with the commands that recreate it as an Image function, as is a zip deploy to an Image function.

--image builds the function's image as \`layers image FUNCTION --push\` does (--base, --repository, --create-repository as there), reads each target first (a Zip function is refused, exit 2, and changes in protected accounts are asked about, as below, before anything is pushed; when any target is refused or fails there, nothing is pushed and no target is deployed, the error naming each one), pushes it to ECR in each of the function's accounts and regions (blobs the repository holds are not sent again) and deploys each region's copy by digest as --image-uri does; it is refused with --dry-run, as pushing writes to ECR.

The function must exist (deploy does not create functions). A function infrastructure as code owns (tag aws:cloudformation:stack-name, or one of settings.ownershipTags) is refused unless --force, as attach refuses it. The credentials of each account are checked (STS) before anything is read or written there. --dry-run packages and reads, and writes nothing to AWS.

Functions in an account marked \`protected: true\` are changed only after confirmation, as attach asks: deploy first reads what it would change (as --dry-run does), lists the changes in protected accounts and asks on a terminal (y/N); without a terminal it refuses with ERR_LAYERS_CONFIRMATION_REQUIRED (exit 2) before writing anything. --yes skips the question.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when any function was refused, conflicted or failed.`

  static override examples = [
    {description: 'Show what deploying the api function to dev would change', command: '<%= config.bin %> <%= command.id %> api --account dev --dry-run'},
    {description: 'Deploy it, publish a version and point the alias live at it', command: '<%= config.bin %> <%= command.id %> api --account dev --publish --alias live'},
    {description: 'Send 10% of live\'s traffic to a new version, machine-readable', command: '<%= config.bin %> <%= command.id %> api --account dev --alias live --traffic 10 --json'},
  ]

  static override strict = false

  static override args = functionTargetArgs

  static override flags = {
    ...targetFlags({accounts: "each function's accounts", regions: "each account's regions"}),
    'dry-run': Flags.boolean({description: 'Package and show what would change; write nothing to AWS.', default: false}),
    publish: Flags.boolean({description: 'Publish a function version holding the deployed code and layers.', default: false}),
    alias: Flags.string({description: 'Create or move this alias to the published version (implies --publish).'}),
    traffic: Flags.integer({description: 'Percent of the alias\'s traffic for the new version (1-100; below 100 the alias stays on its version). Needs --alias.', min: 1, max: 100}),
    yes: protectedYesFlag('Deploy to'),
    force: ownedForceFlag('deploy'),
    'create-bucket': Flags.boolean({description: 'Create the artifact bucket (settings.bucket) where it does not exist.', default: false, exclusive: ['direct-upload']}),
    'direct-upload': Flags.boolean({description: 'Send the zip in UpdateFunctionCode itself (ZipFile), not through the artifact bucket; refused (exit 2) for a package over Lambda\'s 50 MB direct-upload limit.', default: false}),
    image: Flags.boolean({description: 'Build the one named function\'s container image (as `layers image --push`), push it to ECR in each of its accounts and regions, and deploy it there.', default: false, exclusive: ['image-uri', 'direct-upload', 'create-bucket', 'dry-run']}),
    base: Flags.string({description: 'With --image: the base image (as `layers image --base`; default: AWS\'s Lambda base image for the runtime).', dependsOn: ['image']}),
    repository: Flags.string({description: 'With --image: the ECR repository (default: the function\'s name in lower case).', dependsOn: ['image']}),
    'create-repository': Flags.boolean({description: 'With --image: create the ECR repository where it does not exist.', default: false, dependsOn: ['image']}),
    'image-uri': Flags.string({description: 'Deploy this ECR container image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:DIGEST) to the one named Image function instead of its package.', exclusive: ['direct-upload', 'create-bucket']}),
    concurrency: Flags.integer({description: 'Function targets worked on at once.', default: 4, min: 1, max: 64}),
    'wait-timeout': waitTimeoutFlag,
  }

  async run(): Promise<DeployResult> {
    const {argv, flags} = await this.parse(Deploy)
    const result = await deployCommand({
      ...this.functionChangeOptions(argv, flags),
      publish: flags.publish,
      ...(flags.alias !== undefined ? {alias: flags.alias} : {}),
      ...(flags.traffic !== undefined ? {traffic: flags.traffic} : {}),
      createBucket: flags['create-bucket'],
      directUpload: flags['direct-upload'],
      ...(flags['image-uri'] !== undefined ? {imageUri: flags['image-uri']} : {}),
      ...(flags.image
        ? {image: {createRepository: flags['create-repository'], ...(flags.base !== undefined ? {base: flags.base} : {}), ...(flags.repository !== undefined ? {repository: flags.repository} : {})}}
        : {}),
      concurrency: flags.concurrency,
    })
    this.reporter.done()
    this.out(() => renderDeploy(result))
    const failure = deployFailure(result, flags.image)
    if (failure) await this.reportFailure(failure)
    return result
  }
}
