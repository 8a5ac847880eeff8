import {Args, Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand} from '../src/cli/base-command.js'
import {UserInputError} from '../src/errors/index.js'
import {SBOM_FORMATS, type SbomFormat} from '../src/sbom/plan.js'
import type {PublishedSource} from '../src/sbom/published.js'
import {writeSboms} from '../src/sbom/run.js'

export default class Sbom extends LayersAwsCommand {
  static override summary = 'Write the SBOM (CycloneDX 1.5 or SPDX 2.3 JSON) of each layer artifact from the lock.'

  static override description = `One document per artifact (architecture key) of each named own layer (default: all of them): every installed package with name, version, purl, the tarball's or wheel's hashes from the lock's integrity, where it was downloaded from, and the dependency graph (each declared dependency resolved from the package's path as Node.js resolves it). The artifact's CodeSha256 is included when the content was built here (the state database keeps each built tree) or published (the lock's publications). Each npm package's licence as the lock records it (its package.json's): CycloneDX gives an SPDX expression as an expression and other declared text (UNLICENSED, SEE LICENSE IN ...) by name; SPDX gives it as licenseDeclared when it is an SPDX expression, else NOASSERTION (licenseConcluded is always NOASSERTION; Python wheels and locks from before licences have none).

The output is deterministic: the same lock (and built contents) gives the same bytes; the serial number (CycloneDX) and document namespace (SPDX) are UUIDs derived from the content, and no clock time is written (SPDX's required creationInfo.created is 1970-01-01T00:00:00Z).

One document goes to stdout, or to --output FILE; several need --output DIR, which gets LAYER.ARTIFACT.cdx.json or LAYER.ARTIFACT.spdx.json each. With --json, stdout gets a list of the documents (each parsed, or the file it was written to).

Without --published it reads lockfile.json and .layers/state.db only: no network.

--published ARN (or LAYER:VERSION, when this project's publications name one content for it) gives the SBOM of a published layer version, even after the lock moved on: from the tree .layers/state.db kept for its content (CodeSha256), else the CycloneDX document \`layers publish\` uploaded beside the zip (<prefix><layer>/<sha256>.cdx.json, named in the version's description; one GetLayerVersion and one GetObject in the version's account, checked against its SHA-256).

${AWS_CONVENTIONS_HELP}

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'CycloneDX of the common layer to stdout', command: '<%= config.bin %> <%= command.id %> common'},
    {description: 'SPDX of every artifact of every layer into a directory', command: '<%= config.bin %> <%= command.id %> --format spdx --output sbom'},
    {description: 'The SBOM of version 1 of the common layer as published', command: '<%= config.bin %> <%= command.id %> --published common:1'},
  ]

  static override strict = false

  static override args = {
    layer: Args.string({description: 'Layer names (default: every own layer of the lock).'}),
  }

  static override flags = {
    format: Flags.string({description: 'Document format.', options: [...SBOM_FORMATS], default: 'cyclonedx'}),
    output: Flags.string({char: 'o', description: 'The file to write (one document) or the directory (several); default: stdout.'}),
    published: Flags.string({description: 'The SBOM of this published layer version (ARN, or LAYER:VERSION) instead of the lock\'s artifacts.', helpValue: 'ARN'}),
  }

  async run(): Promise<{documents: Array<{layer: string; artifactKey: string; format: SbomFormat; file?: string; document?: unknown; published?: PublishedSource}>}> {
    const {argv, flags} = await this.parse(Sbom)
    if (flags.published !== undefined && argv.length > 0) {
      throw new UserInputError('ERR_LAYERS_USAGE', `--published names the version; layer arguments (${(argv as string[]).join(', ')}) do not go with it.`, {hint: `Run \`layers sbom --published ${flags.published}\` alone.`})
    }
    const result = await writeSboms({
      manifestPath: this.manifestPath(flags),
      layers: argv as string[],
      format: flags.format as SbomFormat,
      ...(flags.output ? {output: flags.output} : {}),
      toolVersion: this.config.version,
      json: this.jsonEnabled(),
      ...(flags.published === undefined ? {} : {published: {ref: flags.published, connection: this.awsConnection(flags), emit: this.reporter.emit}}),
    })
    if (result.files.length === 0 && !this.jsonEnabled()) process.stdout.write(result.documents[0]!.text)
    else this.out(() => result.files.map((file) => `Wrote ${file}`).join('\n'))
    return {
      documents: result.documents.map((document, index) => ({
        layer: document.layer,
        artifactKey: document.artifactKey,
        format: document.format,
        ...(result.files.length > 0 ? {file: result.files[index]!} : {document: JSON.parse(document.text) as unknown}),
        ...(document.published ? {published: document.published} : {}),
      })),
    }
  }
}
