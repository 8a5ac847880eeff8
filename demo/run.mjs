#!/usr/bin/env node
/* global process, console */
// `npm run demo [-- --skip-build] [--dir DIR]`: the example project (layers.yaml, lockfile.json as
// committed, examples/) through the whole story against the local AWS double, each step printed with
// its command line and checked:
//   1. builds the CLI and the double (npm run build), unless --skip-build;
//   2. copies the project into DIR/project (default .layers/demo; its build cache is kept between runs)
//      and starts the double in memory with the example's accounts, roles, profiles, AWS-provided layer
//      and functions (aws-double/example.ts, as `npm run demo:server` does);
//   3. validate; lock (the committed lockfile is up to date and stays byte for byte as it is); build;
//      package; publish --create-bucket; attach; audit;
//   4. a dependency changes (common gains semver): lock, build and publish make exactly one new version
//      (common:2, in each of its targets), attach moves the functions onto it;
//   5. drift: acme-api in dev loses its config layer by hand; audit --fail-on error finds it (exit 1),
//      attach fixes it, audit passes;
//   6. history of common, prune (dry run, then --yes: the unused common:1 goes), outdated, layers run.
// Network: the npm registry only, for tarballs not in the npm cache (build) and for lock and outdated.
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadAwsDouble, repo} from './aws-double.mjs'

const {values} = parseArgs({options: {'skip-build': {type: 'boolean', default: false}, dir: {type: 'string'}}})
const demoDir = path.resolve(values.dir ?? path.join(repo, '.layers/demo'))
const project = path.join(demoDir, 'project')
const bold = (text) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[22m` : text)
const say = (text) => console.log(`${bold('#')} ${text}`)

if (!values['skip-build']) {
  console.log(`${bold('$ npm run build')}   (the CLI and the local AWS double)`)
  const built = spawnSync('npm', ['run', '--silent', 'build'], {cwd: repo, encoding: 'utf8'})
  if (built.status !== 0) {
    console.log((built.stdout + built.stderr).split('\n').slice(0, 20).join('\n'))
    process.exit(1)
  }
}

// The example project as committed, copied so the demo never writes into the repository; the build
// cache (.layers/build) of an earlier run is kept, everything else starts over.
mkdirSync(project, {recursive: true})
for (const entry of readdirSync(project)) if (entry !== '.layers') rmSync(path.join(project, entry), {recursive: true, force: true})
for (const entry of existsSync(path.join(project, '.layers')) ? readdirSync(path.join(project, '.layers')) : []) if (entry !== 'build') rmSync(path.join(project, '.layers', entry), {recursive: true, force: true})
for (const entry of ['layers.yaml', 'lockfile.json', 'examples']) cpSync(path.join(repo, entry), path.join(project, entry), {recursive: true})
const committedLock = readFileSync(path.join(project, 'lockfile.json'))

const {startExampleServer} = await loadAwsDouble('example.js')
const awsDir = mkdtempSync(path.join(tmpdir(), 'layers-demo-aws-'))
const {server, setup, env: awsEnv} = await startExampleServer({manifest: readFileSync(path.join(project, 'layers.yaml'), 'utf8'), awsDir, functions: true})
const env = {...process.env, ...awsEnv, NODE_NO_WARNINGS: '1'}
for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) delete env[name]

console.log(`\nLocal AWS double: ${server.endpoint}, accounts ${setup.accounts.map((account) => `${account.name} (${account.id})`).join(', ')}; AWS config in ${awsDir}`)
console.log(`The functions exist already (placeholder code, no layers), as a deployment tool made them: ${setup.functions.map((fn) => fn.name).join(', ')}`)
console.log(`Project: ${path.relative(process.cwd(), project) || project} (layers.yaml, lockfile.json and examples/ as committed)\n`)

const results = []

/**
 * Runs `layers ARGS` (through `sh -c` when `shell` is given, for pipes), printing its command line and
 * output; records whether it exited with `expect` and, when `check` is given, whether that holds.
 */
function layers(args, {expect = 0, input, why, check} = {}) {
  const line = `layers ${args.join(' ')}`
  console.log(bold(`$ ${input ? `echo '${input}' | ` : ''}${line}`))
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/run.js'), ...args], {cwd: project, env, stdio: [input ? 'pipe' : 'ignore', 'inherit', 'inherit']})
    if (input) child.stdin.end(input)
    child.on('close', (code) => {
      const problem = code !== expect ? `exit ${code}, expected ${expect}` : check?.()
      results.push({command: line, problem})
      if (problem) console.log(`(FAILED: ${problem})`)
      else if (code !== 0) console.log(`(exit ${code}${why ? `: ${why}` : ''})`)
      console.log('')
      resolve()
    })
  })
}

/** The PublishLayerVersion calls answered 201 since `from` (an index into server.calls). */
const publishedSince = (from) => server.calls.slice(from).filter((call) => call.operation === 'PublishLayerVersion' && call.status === 201)
const lockOf = () => JSON.parse(readFileSync(path.join(project, 'lockfile.json'), 'utf8'))

try {
  await layers(['validate'])
  await layers(['lock'], {check: () => (readFileSync(path.join(project, 'lockfile.json')).equals(committedLock) ? undefined : 'lockfile.json changed')})
  say('The committed lockfile is used as is: lock found nothing to do and left it byte for byte as committed.\n')
  await layers(['build'])
  await layers(['package'])
  await layers(['publish', '--create-bucket'])
  await layers(['attach'])
  await layers(['audit'])

  say('A dependency changes: the common layer gains semver (layers.yaml, layers.common.npm).')
  const manifestFile = path.join(project, 'layers.yaml')
  const manifest = readFileSync(manifestFile, 'utf8')
  const anchor = '      p-retry: ^6.2.0\n'
  if (!manifest.includes(anchor)) throw new Error(`demo: layers.yaml has no line ${JSON.stringify(anchor)} to add semver after`)
  writeFileSync(manifestFile, manifest.replace(anchor, `${anchor}      semver: ^7.6.0\n`))
  console.log(`    ${anchor.trim()}\n  + semver: ^7.6.0\n`)
  await layers(['lock'], {check: () => (lockOf().layers.common.artifacts['arm64+x86_64'].packages['node_modules/semver'] ? undefined : 'common has no semver in lockfile.json')})
  await layers(['build'])
  let from = server.calls.length
  await layers(['publish'], {
    check: () => {
      // Versions recorded per layer: common at 2 in each target, every other own layer still at 1.
      const versions = Object.entries(lockOf().layers).flatMap(([name, layer]) => Object.values(layer.published ?? {}).flatMap((regions) => Object.values(regions).flatMap((artifacts) => Object.values(artifacts).map((record) => ({name, version: record.version})))))
      const wrong = versions.filter(({name, version}) => version !== (name === 'common' ? 2 : 1))
      if (wrong.length > 0) return `lockfile.json records ${wrong.map(({name, version}) => `${name}:${version}`).join(', ')}`
      const count = publishedSince(from).length
      const expected = versions.filter(({name}) => name === 'common').length
      return count === expected ? undefined : `${count} versions published, expected ${expected} (common:2 in each of its targets)`
    },
  })
  say('Exactly one new version: common:2 in each of its targets; config and images were unchanged, so nothing was published for them.\n')
  await layers(['attach'])

  say('Drift: someone removes the config layer from acme-api in dev by hand (in the console).')
  const dev = setup.accounts.find((account) => account.name === 'dev')
  const region = dev.regions[0]
  const {LambdaClient, UpdateFunctionConfigurationCommand} = await import('@aws-sdk/client-lambda')
  const lambda = new LambdaClient({region, endpoint: server.endpoint, credentials: server.credentials(dev.id)})
  const commonArn = lockOf().layers.common.published[dev.id][region]['arm64+x86_64'].arn
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'acme-api', Layers: [commonArn]}))
  console.log(`    as \`aws lambda update-function-configuration --profile ${dev.profile} --region ${region} --function-name acme-api --layers ${commonArn}\` does\n`)
  await layers(['audit', '--fail-on', 'error'], {expect: 1, why: 'audit finds the drift, as a CI gate would'})
  await layers(['attach', 'api', '--account', 'dev'])
  await layers(['audit', '--fail-on', 'error'])

  say('What happened to common, and what is no longer used:')
  await layers(['history', 'common'])
  await layers(['prune', '--dry-run'])
  from = server.calls.length
  await layers(['prune', '--yes'], {
    check: () => {
      const deleted = server.calls.slice(from).filter((call) => call.operation === 'DeleteLayerVersion' && call.status === 204).length
      return deleted > 0 ? undefined : 'prune deleted nothing'
    },
  })
  await layers(['outdated'])

  say('The functions run locally, assembled from their built layers as Lambda lays them out:')
  await layers(['run', 'api', '--event', 'examples/events/api-order.json'])
  await layers(['run', 'scheduler', '--event', '-'], {input: '{"every": "5m", "failFirst": 1}'})
} finally {
  await server.close()
  rmSync(awsDir, {recursive: true, force: true})
}

const byOperation = {}
for (const call of server.calls) byOperation[`${call.service}:${call.operation}`] = (byOperation[`${call.service}:${call.operation}`] ?? 0) + 1
console.log(bold('AWS calls served:'), Object.entries(byOperation).map(([operation, count]) => `${operation} ${count}`).join(', '))
const failed = results.filter((result) => result.problem)
console.log(failed.length === 0 ? `All ${results.length} steps went as expected.` : `Failed: ${failed.map((result) => `${result.command} (${result.problem})`).join('; ')}`)
process.exitCode = failed.length === 0 ? 0 : 1
