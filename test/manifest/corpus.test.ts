// The broken-manifest corpus: each file under corpus/ has one problem (99-many-problems has many).
// Every file is checked in-process for exactly these problems at exactly these places; a sample
// also goes through the built CLI (`layers validate --json`: exit 2, the same problems, no stack trace).
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {inspectManifest} from '../../src/manifest/load.js'
import {runCli} from '../support/cli.js'

const CORPUS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus')

interface Expected {
  at: string
  code: string
  message: string
}

const EXPECTED: Record<string, Expected[]> = {
  "01-yaml-syntax.yaml": [
    {at: "01-yaml-syntax.yaml:25:5", code: "SYNTAX", message: "YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]."},
  ],
  "02-unknown-top-key.yaml": [
    {at: "02-unknown-top-key.yaml:18:1", code: "UNKNOWN_KEY", message: "Unknown key \"fuctions\" in the manifest. Did you mean \"functions\"?"},
  ],
  "03-unknown-function-key.yaml": [
    {at: "03-unknown-function-key.yaml:22:5", code: "UNKNOWN_KEY", message: "Unknown key \"runtme\" in functions.api. Did you mean \"runtime\"?"},
  ],
  "04-wrong-type-layers.yaml": [
    {at: "04-wrong-type-layers.yaml:24:13", code: "WRONG_TYPE", message: "functions.api.layers must be a list, not string \"deps\"."},
  ],
  "05-invalid-range.yaml": [
    {at: "05-invalid-range.yaml:13:12", code: "INVALID_RANGE", message: "\"^3.25.x.1\" for package zod is not a valid semver range."},
  ],
  "06-invalid-package-name.yaml": [
    {at: "06-invalid-package-name.yaml:14:7", code: "INVALID_PACKAGE_NAME", message: "\" leading-space\" is not a valid npm package name (name cannot contain leading or trailing spaces; name can only contain URL-friendly characters)."},
  ],
  "07-arn-partition.yaml": [
    {at: "07-arn-partition.yaml:17:10", code: "INVALID_ARN", message: "layers.ext.arn has an unknown partition \"amazon\" (expected aws, aws-cn or aws-us-gov)."},
  ],
  "08-arn-region.yaml": [
    {at: "08-arn-region.yaml:17:10", code: "INVALID_ARN", message: "layers.ext.arn has an unknown region \"eu-wset-1\" (use a region such as us-east-1, or {region})."},
  ],
  "09-arn-account.yaml": [
    {at: "09-arn-account.yaml:17:10", code: "INVALID_ARN", message: "layers.ext.arn has account id \"58024727543\", which is not 12 digits."},
  ],
  "10-arn-name.yaml": [
    {at: "10-arn-name.yaml:17:10", code: "INVALID_ARN", message: "layers.ext.arn has an invalid layer name \"Lambda.Insights\" (1-140 letters, digits, '-' or '_')."},
  ],
  "11-arn-version.yaml": [
    {at: "11-arn-version.yaml:17:10", code: "INVALID_ARN", message: "layers.ext.arn has an invalid version \"0\" (a positive whole number, or none for the newest)."},
  ],
  "12-unknown-layer.yaml": [
    {at: "12-unknown-layer.yaml:24:20", code: "UNKNOWN_LAYER", message: "functions.api uses layer \"contnet\", which is not defined in layers:. Did you mean \"content\"?"},
  ],
  "13-too-many-layers.yaml": [
    {at: "13-too-many-layers.yaml:30:50", code: "TOO_MANY_LAYERS", message: "functions.api has 6 layers; Lambda allows at most 5."},
  ],
  "14-same-layer-twice.yaml": [
    {at: "14-same-layer-twice.yaml:24:29", code: "DUPLICATE_LAYER", message: "functions.api.layers lists deps twice (items 1 and 3)."},
  ],
  "15-architecture-mismatch.yaml": [
    {at: "15-architecture-mismatch.yaml:25:14", code: "ARCH_MISMATCH", message: "functions.api runs on arm64, but layer deps is built for x86_64 only."},
  ],
  "16-runtime-mismatch.yaml": [
    {at: "16-runtime-mismatch.yaml:25:14", code: "RUNTIME_MISMATCH", message: "functions.api uses runtime nodejs22.x, but layer deps declares nodejs20.x only."},
  ],
  "17-duplicate-layer-name.yaml": [
    {at: "17-duplicate-layer-name.yaml:16:3", code: "DUPLICATE_KEY", message: "Duplicate key \"deps\"."},
  ],
  "18-bad-account-id.yaml": [
    {at: "18-bad-account-id.yaml:8:9", code: "WRONG_TYPE", message: "accounts.dev.id must be a string, not number 11111111111."},
  ],
  "19-unknown-region.yaml": [
    {at: "19-unknown-region.yaml:3:24", code: "UNKNOWN_REGION", message: "Unknown AWS region \"us-east-7\". Did you mean \"us-east-1\"?"},
  ],
  "20-empty.yaml": [
    {at: "20-empty.yaml:1:1", code: "EMPTY", message: "The manifest is empty."},
  ],
  "21-unknown-account.yaml": [
    {at: "21-unknown-account.yaml:25:16", code: "UNKNOWN_ACCOUNT", message: "functions.api.accounts names \"dve\", which is not in accounts:."},
  ],
  "22-layer-two-kinds.yaml": [
    {at: "22-layer-two-kinds.yaml:15:5", code: "LAYER_KIND", message: "Layer content has both npm and dir; a layer is exactly one kind."},
  ],
  "23-missing-required.yaml": [
    {at: "23-missing-required.yaml:19:3", code: "MISSING_KEY", message: "functions.api is missing the required key \"handler\"."},
  ],
  "24-unknown-runtime.yaml": [
    {at: "24-unknown-runtime.yaml:22:14", code: "UNKNOWN_RUNTIME", message: "Unknown Lambda runtime \"nodejs22\". Did you mean \"nodejs22.x\"?"},
  ],
  "25-bad-architecture.yaml": [
    {at: "25-bad-architecture.yaml:23:19", code: "INVALID_VALUE", message: "functions.api.architecture is \"aarch64\"; it must be one of x86_64, arm64. Did you mean \"arm64\"?"},
  ],
  "26-missing-source-dir.yaml": [
    {at: "26-missing-source-dir.yaml:20:13", code: "MISSING_PATH", message: "functions.api.source: <dir>/functions/api is not a directory."},
  ],
  "27-wrong-version.yaml": [
    {at: "27-wrong-version.yaml:1:10", code: "INVALID_VALUE", message: "version is 2; it must be 1."},
  ],
  "28-duplicate-function-name.yaml": [
    {at: "28-duplicate-function-name.yaml:27:11", code: "DUPLICATE_FUNCTION", message: "Functions api and api2 both deploy as \"api\"."},
  ],
  "29-layer-without-kind.yaml": [
    {at: "29-layer-without-kind.yaml:14:3", code: "LAYER_KIND", message: "Layer content has none of npm, pip, dir, runtime or arn."},
  ],
  "30-arn-layer-option.yaml": [
    {at: "30-arn-layer-option.yaml:18:5", code: "ARN_LAYER_OPTION", message: "Layer ext is an arn layer, which cannot take \"runtimes\" (its publisher sets it)."},
  ],
  "31-same-layer-twice.yaml": [
    {at: "31-same-layer-twice.yaml:26:25", code: "SAME_LAYER_TWICE", message: "functions.api uses layers ext and ext-old, two versions of the same layer LambdaInsightsExtension."},
  ],
  "32-layer-region-mismatch.yaml": [
    {at: "32-layer-region-mismatch.yaml:24:20", code: "LAYER_REGION_MISMATCH", message: "functions.api deploys to eu-west-1, but layer ext is in us-east-1 only."},
  ],
  // A duplicate key does not hide the other problems.
  "33-duplicate-key-and-more.yaml": [
    {at: "33-duplicate-key-and-more.yaml:16:3", code: "DUPLICATE_KEY", message: "Duplicate key \"deps\"."},
    {at: "33-duplicate-key-and-more.yaml:21:3", code: "MISSING_KEY", message: "functions.api is missing the required key \"runtime\"."},
    {at: "33-duplicate-key-and-more.yaml:24:5", code: "UNKNOWN_KEY", message: "Unknown key \"runtme\" in functions.api. Did you mean \"runtime\"?"},
  ],
  "34-alias-bomb.yaml": [
    {at: "34-alias-bomb.yaml:4:7", code: "ALIAS_LIMIT", message: "The YAML aliases expand to more than 100 copies (aliases of anchors that hold aliases); layers refuses such a document."},
  ],
  "35-undefined-alias.yaml": [
    {at: "35-undefined-alias.yaml:24:13", code: "ALIAS", message: "YAML alias *layer-list names no anchor (an alias must follow its &layer-list anchor)."},
  ],
  "36-bucket-one-for-two-regions.yaml": [
    {at: "36-bucket-one-for-two-regions.yaml:3:11", code: "BUCKET_REGIONS", message: "settings.bucket \"acme-layers-{accountId}\" gives the regions eu-west-1, us-east-1 the same bucket acme-layers-111111111111: an S3 bucket lives in one region, and Lambda reads a layer's zip only from a bucket in the layer's region."},
  ],
  "37-huge-value.yaml": [
    {at: "37-huge-value.yaml:16:14", code: "INVALID_VALUE", message: `layers.content.license is "${'L'.repeat(200)}"… (4800 more characters), which is not an SPDX license identifier or URL (at most 512 characters).`},
  ],
  "38-protected-not-boolean.yaml": [
    {at: "38-protected-not-boolean.yaml:10:16", code: "WRONG_TYPE", message: "accounts.dev.protected must be true or false, not string \"yes\"."},
  ],
  "39-ownership-tag.yaml": [
    {at: "39-ownership-tag.yaml:6:40", code: "INVALID_VALUE", message: "settings.ownershipTags[1] is \"=terraform\", which is not a tag as KEY=VALUE or KEY (a key of 1 to 128 characters without '=', a value of at most 256)."},
  ],
  "99-many-problems.yaml": [
    {at: "99-many-problems.yaml:8:9", code: "INVALID_VALUE", message: "accounts.dev.id is \"1234\", which is not a 12-digit AWS account id."},
    {at: "99-many-problems.yaml:13:12", code: "INVALID_RANGE", message: "\"not-a-range!\" for package zod is not a valid semver range."},
    {at: "99-many-problems.yaml:24:5", code: "UNKNOWN_KEY", message: "Unknown key \"memory\" in functions.api."},
    {at: "99-many-problems.yaml:25:20", code: "UNKNOWN_LAYER", message: "functions.api uses layer \"contnet\", which is not defined in layers:. Did you mean \"content\"?"},
    {at: "99-many-problems.yaml:25:29", code: "DUPLICATE_LAYER", message: "functions.api.layers lists deps twice (items 1 and 3)."},
    {at: "99-many-problems.yaml:25:35", code: "UNKNOWN_LAYER", message: "functions.api uses layer \"x\", which is not defined in layers:."},
    {at: "99-many-problems.yaml:25:38", code: "UNKNOWN_LAYER", message: "functions.api uses layer \"y\", which is not defined in layers:."},
    {at: "99-many-problems.yaml:25:41", code: "UNKNOWN_LAYER", message: "functions.api uses layer \"z\", which is not defined in layers:."},
    {at: "99-many-problems.yaml:25:41", code: "TOO_MANY_LAYERS", message: "functions.api has 6 layers; Lambda allows at most 5."},
  ],
}

describe('broken manifest corpus', () => {
  const files = readdirSync(CORPUS).filter((file) => file.endsWith('.yaml')).sort()

  it('has at least 25 single-problem manifests and one with many, all with expectations', () => {
    expect(files.filter((file) => EXPECTED[file]?.length === 1).length).toBeGreaterThanOrEqual(25)
    expect(EXPECTED['99-many-problems.yaml']!.length).toBeGreaterThan(5)
    expect(files).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(files)('%s', async (file) => {
    const inspection = await inspectManifest(path.join(CORPUS, file))
    expect(inspection.manifest).toBeUndefined()
    const problems = inspection.problems.map((problem) => ({
      at: path.relative(CORPUS, `${problem.location?.file}:${problem.location?.line}:${problem.location?.column}`),
      code: problem.code.replace(/^ERR_LAYERS_(MANIFEST_)?/, ''),
      message: problem.message.replaceAll(CORPUS, '<dir>'),
    }))
    expect(problems).toEqual(EXPECTED[file])
    for (const problem of inspection.problems) expect(problem.hint, `hint for ${problem.code}`).toBeTruthy()
  })

  const sample = ['01-yaml-syntax.yaml', '05-invalid-range.yaml', '20-empty.yaml', '26-missing-source-dir.yaml', '34-alias-bomb.yaml', '35-undefined-alias.yaml', '99-many-problems.yaml']
  it.concurrent.each(sample)('the CLI reports %s with exit 2', async (file) => {
    const result = await runCli(['validate', '--json', '--manifest', path.join(CORPUS, file)])
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.code).toBe(2)
    expect(result.json.error.code).toBe('ERR_LAYERS_MANIFEST_INVALID')
    const problems = (result.json.error.problems as Array<{location: string; code: string; message: string; hint?: string}>).map((problem) => ({
      at: path.relative(CORPUS, problem.location),
      code: problem.code.replace(/^ERR_LAYERS_(MANIFEST_)?/, ''),
      message: problem.message.replaceAll(CORPUS, '<dir>'),
    }))
    expect(problems).toEqual(EXPECTED[file])
    for (const problem of result.json.error.problems) expect(problem.hint, `hint for ${problem.code}`).toBeTruthy()
  })

  it('prints problems as file:line:column lines for humans', async () => {
    const result = await runCli(['validate', '--manifest', path.join(CORPUS, '12-unknown-layer.yaml')])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`${path.join(CORPUS, '12-unknown-layer.yaml')}:24:20: error ERR_LAYERS_UNKNOWN_LAYER functions.api uses layer "contnet"`)
    expect(result.stderr).toContain('Did you mean "content"?')
  })
})
