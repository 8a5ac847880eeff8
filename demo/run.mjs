#!/usr/bin/env node
/* global process, console, Buffer */
// `npm run demo [-- --fresh]`: the example project (layers.yaml, examples/) through the whole flow
// against the local AWS test server, printing each command and what a user would see.
//   1. builds the CLI and the local AWS double (npm run build: dist/aws-double);
//   2. copies layers.yaml and examples/ into .layers/demo/project (the lockfile and build cache there
//      are kept between runs, so a second run shows what is unchanged);
//   3. starts the server with its state in .layers/demo/aws.db, one access key per manifest account,
//      the manifest's assume-role targets (with their external ids) and the AWS-provided layers the
//      manifest pins (published and shared with everyone, as AWS does);
//   4. writes a temporary AWS config (a default profile, the manifest's profiles) and runs, as far as
//      they exist in dist/commands: validate, lock, build, package, publish --create-bucket, then creates
//      the manifest's functions that do not exist yet (as a deployment tool would), attach, audit.
// --fresh forgets the server state, the project copy's lockfile and caches first; --manifest FILE runs
// another manifest (and the examples/ beside it) instead of the example project.
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {parse} from 'yaml'
import yazl from 'yazl'
import {loadAwsServer, repo} from './aws-double.mjs'

const {values} = parseArgs({options: {fresh: {type: 'boolean', default: false}, manifest: {type: 'string'}}})
// Another manifest (with its examples/ beside it) may stand in for the example project's.
const source = values.manifest ? path.resolve(values.manifest) : path.join(repo, 'layers.yaml')
const demoDir = path.join(repo, '.layers/demo')
const project = path.join(demoDir, 'project')
const bold = (text) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[22m` : text)

if (values.fresh) {
  rmSync(path.join(demoDir, 'aws.db'), {force: true})
  rmSync(path.join(demoDir, 'aws.db-wal'), {force: true})
  rmSync(path.join(demoDir, 'aws.db-shm'), {force: true})
  rmSync(project, {recursive: true, force: true})
}

console.log(bold('$ npm run build') + '   (build the CLI)')
const built = spawnSync('npm', ['run', '--silent', 'build'], {cwd: repo, encoding: 'utf8'})
if (built.status !== 0) console.log(`(the build failed; running the commands built before)\n${(built.stdout + built.stderr).split('\n').slice(0, 10).join('\n')}`)

// The example project, copied so the demo never writes into the repository.
mkdirSync(project, {recursive: true})
cpSync(source, path.join(project, 'layers.yaml'))
rmSync(path.join(project, 'examples'), {recursive: true, force: true})
if (existsSync(path.join(path.dirname(source), 'examples'))) cpSync(path.join(path.dirname(source), 'examples'), path.join(project, 'examples'), {recursive: true})
const manifest = parse(readFileSync(path.join(project, 'layers.yaml'), 'utf8'))
const settings = manifest.settings ?? {}
const manifestAccounts = Object.entries(manifest.accounts ?? {})
const regionsOf = (account) => account?.regions ?? settings.regions ?? ['us-east-1']

// AWS-provided layers the manifest pins: arn:aws:lambda:{region}:ACCOUNT:layer:NAME:VERSION.
const providedLayers = Object.values(manifest.layers ?? {})
  .map((layer) => (typeof layer?.arn === 'string' ? /^arn:aws:lambda:[^:]+:(\d{12}):layer:([^:]+):(\d+)$/.exec(layer.arn) : null))
  .filter(Boolean)
  .map((match) => ({accountId: match[1], name: match[2], version: Number(match[3])}))

const accessKeys = {}
for (const id of new Set([...manifestAccounts.map(([, account]) => String(account.id)), ...providedLayers.map((layer) => layer.accountId)])) accessKeys[`AKIDDEMO${id}`] = id
const roles = {}
const defaultAccount = String((manifestAccounts.find(([, account]) => account.profile) ?? manifestAccounts[0])?.[1]?.id ?? Object.values(accessKeys)[0])
// Each manifest role trusts the account of the credentials it is assumed with: the default ones, or
// the account's own profile (the test server refuses any other caller).
for (const [, account] of manifestAccounts) {
  if (account.roleArn) roles[account.roleArn] = {trust: [account.profile ? String(account.id) : defaultAccount], ...(account.externalId ? {externalId: account.externalId} : {})}
}

const {startAwsServer} = await loadAwsServer()
const server = await startAwsServer({dbFile: path.join(demoDir, 'aws.db'), accounts: accessKeys, roles})
const firstRegion = regionsOf(undefined)[0]
const profiles = {default: {accountId: defaultAccount, region: firstRegion}}
for (const [, account] of manifestAccounts) if (account.profile) profiles[account.profile] = {accountId: String(account.id), region: firstRegion}
const awsDir = mkdtempSync(path.join(tmpdir(), 'layers-demo-aws-'))
const awsEnv = server.writeAwsConfig(awsDir, profiles)
const env = {...process.env, ...awsEnv, AWS_ENDPOINT_URL: server.endpoint, NODE_NO_WARNINGS: '1'}
for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) delete env[name]

console.log(`\nLocal AWS test server: ${server.endpoint} (state in ${path.relative(repo, path.join(demoDir, 'aws.db'))})`)
console.log(`Accounts: ${Object.values(accessKeys).join(', ')}; AWS config in ${awsDir}`)
console.log(`Project: ${path.relative(repo, project)}/layers.yaml\n`)

const {LambdaClient, GetFunctionCommand, CreateFunctionCommand, ListLayerVersionsCommand, PublishLayerVersionCommand, AddLayerVersionPermissionCommand} = await import('@aws-sdk/client-lambda')
const lambdaFor = (accountId, region) => new LambdaClient({region, endpoint: server.endpoint, credentials: server.credentials(accountId)})

function zipOf(files) {
  const zip = new yazl.ZipFile()
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name, {mtime: new Date(0)})
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks = []
    zip.outputStream.on('data', (chunk) => chunks.push(chunk))
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    zip.outputStream.on('error', reject)
  })
}

/** AWS's own layers exist in every region the manifest uses, the pinned version shared publicly. */
async function seedProvidedLayers() {
  const regions = new Set(manifestAccounts.flatMap(([, account]) => regionsOf(account)))
  for (const layer of providedLayers) {
    for (const region of regions) {
      const client = lambdaFor(layer.accountId, region)
      const existing = await client.send(new ListLayerVersionsCommand({LayerName: layer.name}))
      let latest = existing.LayerVersions?.[0]?.Version ?? 0
      if (latest >= layer.version) continue
      const zip = await zipOf({[`extensions/${layer.name}`]: '#!/bin/sh\necho extension\n'})
      while (latest < layer.version) latest = (await client.send(new PublishLayerVersionCommand({LayerName: layer.name, Content: {ZipFile: zip}, CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'], CompatibleArchitectures: ['x86_64', 'arm64']}))).Version
      await client.send(new AddLayerVersionPermissionCommand({LayerName: layer.name, VersionNumber: layer.version, StatementId: 'public', Action: 'lambda:GetLayerVersion', Principal: '*'}))
    }
  }
}

/** The manifest's functions, created where they do not exist yet (from `layers package` zips when there). */
async function createFunctions() {
  const created = []
  for (const [key, fn] of Object.entries(manifest.functions ?? {})) {
    const packaged = path.join(project, '.layers/package', `${key}.zip`)
    const code = existsSync(packaged) ? readFileSync(packaged) : await zipOf({'index.js': 'exports.handler = async () => ({statusCode: 200})\n'})
    for (const accountName of fn.accounts ?? manifestAccounts.map(([name]) => name)) {
      const account = manifest.accounts?.[accountName]
      if (!account) continue
      for (const region of regionsOf(account)) {
        const client = lambdaFor(String(account.id), region)
        const name = fn.name ?? key
        const exists = await client.send(new GetFunctionCommand({FunctionName: name})).then(() => true, (error) => (error.name === 'ResourceNotFoundException' ? false : Promise.reject(error)))
        if (exists) continue
        await client.send(new CreateFunctionCommand({FunctionName: name, Role: `arn:aws:iam::${account.id}:role/${name}-role`, Runtime: fn.runtime, Handler: fn.handler, Architectures: [fn.architecture ?? 'x86_64'], Code: {ZipFile: code}}))
        created.push(`${name} (${account.id}/${region})`)
      }
    }
  }
  return created
}

const available = new Set(['validate', 'lock', 'build', 'package', 'publish', 'attach', 'audit'].filter((name) => existsSync(path.join(repo, 'dist/commands', `${name}.js`))))
const results = []

function layers(args) {
  if (!available.has(args[0])) return Promise.resolve()
  console.log(bold(`$ layers ${args.join(' ')}`))
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/run.js'), ...args], {cwd: project, env, stdio: 'inherit'})
    child.on('close', (code) => {
      results.push({command: `layers ${args.join(' ')}`, code})
      console.log(code === 0 ? '' : `(exit ${code})\n`)
      resolve()
    })
  })
}

try {
  await seedProvidedLayers()
  await layers(['validate'])
  await layers(['lock'])
  await layers(['build'])
  await layers(['package'])
  await layers(['publish', '--create-bucket'])
  const created = await createFunctions()
  if (created.length > 0) console.log(`(created the functions the manifest names, as a deployment tool would: ${created.join(', ')})\n`)
  await layers(['attach'])
  await layers(['audit'])
  // A second attach shows that functions already on the locked versions are left alone.
  await layers(['attach'])
} finally {
  await server.close()
  rmSync(awsDir, {recursive: true, force: true})
}

const byOperation = {}
for (const call of server.calls) byOperation[`${call.service}:${call.operation}`] = (byOperation[`${call.service}:${call.operation}`] ?? 0) + 1
console.log(bold('AWS calls served:'), Object.entries(byOperation).map(([operation, count]) => `${operation} ${count}`).join(', '))
const failed = results.filter((result) => result.code !== 0)
console.log(failed.length === 0 ? `All ${results.length} commands succeeded.` : `Failed: ${failed.map((result) => `${result.command} (exit ${result.code})`).join('; ')}`)
process.exitCode = failed.length === 0 ? 0 : 1
