import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {imageCommand, type ImageResult} from '../src/image/command.js'
import {renderImage} from '../src/image/render.js'

export default class Image extends LayersAwsCommand {
  static override summary = 'Assemble a function and its locked layers as a Lambda container image, without Docker; write it or push it to ECR.'

  static override description = `Builds an OCI image of the function: the base image's layers unchanged (by default AWS's Lambda base image for the function's runtime and architecture, e.g. public.ecr.aws/lambda/nodejs:22, linux/arm64 from its index; --base REFERENCE names another, oci:DIR an OCI image layout on disk, scratch none), then one layer per Lambda layer of the function in its order, the built layer zip laid out under /opt (a later layer replaces the same path, as Lambda extracts layers), then the function's code (the thin zip of \`layers package\`, after its import check) under /var/task; CMD is the handler, the base's ENTRYPOINT, ENV and WORKDIR are kept. The layers must be built (\`layers build\`); ARN layers are refused (an image uses no Lambda layers). The same inputs give the same bytes, hence the same image digest, in any directory, on any day and machine (fixed tar and gzip headers, canonical JSON). Base images are read through the OCI distribution API (Basic or Bearer auth as the registry asks), every manifest and blob checked against its digest.

--output DIR writes the image as an OCI image layout (index.json, blobs/sha256/...), for offline use or other tools. --push pushes it to the ECR repository (--repository, default the function's name in lower case; --create-repository creates it when missing) in each of the function's accounts and regions, after checking each account's credentials (STS): registry credentials from GetAuthorizationToken, every blob checked first and skipped when the repository has it (a second push uploads no blob), base layers mounted from their repository when the base lives in the same registry; the manifest last, by digest (and --tag), so a push cut short (a registry that stops answering, within --read-timeout; Ctrl-C, which cuts the blob upload in flight and says what each target got) leaves no image, and the rerun uploads only the blobs missing.

Lambda cannot change a function's package type in place: a Zip function becomes an Image function only by being created again (delete it, or create a new function, with PackageType Image and the pushed ImageUri REGISTRY/REPOSITORY@sha256:...); an Image function then takes new images with UpdateFunctionCode ImageUri.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Write the api function as an OCI image layout on no base image, as JSON', command: '<%= config.bin %> <%= command.id %> api --base scratch --output .layers/image/api --json'},
    {description: 'Build it on the base image of an OCI layout (the one just written)', command: '<%= config.bin %> <%= command.id %> api --base oci:.layers/image/api'},
  ]

  static override args = {
    function: Args.string({description: 'Function key or name from the manifest.', required: true}),
  }

  static override flags = {
    base: Flags.string({description: 'Base image: HOST/REPOSITORY:TAG or @sha256:DIGEST, oci:DIR (an OCI image layout) or scratch (default: AWS\'s Lambda base image for the runtime).'}),
    output: Flags.string({char: 'o', description: 'Write the image as an OCI image layout into this directory (replaced).'}),
    push: Flags.boolean({description: 'Push the image to ECR in each of the function\'s accounts and regions.', default: false}),
    repository: Flags.string({description: 'ECR repository to push to (default: the function\'s name in lower case).'}),
    tag: Flags.string({description: 'Also tag the pushed image (it is always pushed by digest).'}),
    'create-repository': Flags.boolean({description: 'Create the ECR repository where it does not exist.', default: false}),
    account: Flags.string({char: 'a', description: 'Manifest account name or id to push to (repeatable); default: the function\'s accounts.', multiple: true}),
    region: Flags.string({char: 'r', description: 'Region to push to (repeatable); default: each account\'s regions.', multiple: true}),
  }

  async run(): Promise<ImageResult> {
    const {args, flags} = await this.parse(Image)
    const result = await imageCommand({
      manifestPath: this.manifestPath(flags),
      function: args.function,
      ...(flags.base !== undefined ? {base: flags.base} : {}),
      ...(flags.output !== undefined ? {output: flags.output} : {}),
      push: flags.push,
      ...(flags.repository !== undefined ? {repository: flags.repository} : {}),
      ...(flags.tag !== undefined ? {tag: flags.tag} : {}),
      createRepository: flags['create-repository'],
      accounts: flags.account,
      regions: flags.region,
      emit: this.reporter.emit,
      ...this.awsConnection(flags),
      signal: this.interruptSignal,
    })
    this.reporter.done()
    this.out(() => renderImage(result))
    return result
  }
}
