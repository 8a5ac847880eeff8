#!/usr/bin/env node
/* global process, console, setInterval */
// `npm run demo:server [-- --port 4566] [--db FILE] [--memory] [--manifest FILE]`: the local AWS double
// set up for the example project (layers.yaml), to run it by hand: the accounts it names, the prod role
// with its external id, the profiles it uses (default and acme-dev) in an AWS config it writes, the
// AWS-provided layer it pins (insights) in each of its regions, the artifact buckets and the functions
// (placeholder code, no layers). Prints the environment to export; Ctrl-C stops it. State is kept in
// .layers/demo/aws.db unless --memory (or --db FILE).
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadAwsDouble, repo} from './aws-double.mjs'

const {values} = parseArgs({
  options: {port: {type: 'string', default: '4566'}, db: {type: 'string'}, memory: {type: 'boolean', default: false}, manifest: {type: 'string'}},
})
const manifestFile = path.resolve(values.manifest ?? path.join(repo, 'layers.yaml'))
const {startExampleServer} = await loadAwsDouble('example.js')
const dbFile = values.memory ? undefined : path.resolve(values.db ?? path.join(repo, '.layers/demo/aws.db'))
const awsDir = mkdtempSync(path.join(tmpdir(), 'layers-aws-'))
const {server, setup, env} = await startExampleServer({
  manifest: readFileSync(manifestFile, 'utf8'),
  awsDir,
  port: Number(values.port),
  ...(dbFile ? {dbFile} : {}),
  buckets: true,
  functions: true,
})

const describe = (account) => `${account.name} ${account.id} (${account.profile ? `profile ${account.profile}` : account.roleArn ? `role ${account.roleArn}${account.externalId ? `, external id ${account.externalId}` : ''}, assumed with the default profile` : 'the default profile'})`
console.log(`Local AWS double on ${server.endpoint} for ${path.relative(process.cwd(), manifestFile) || manifestFile}${dbFile ? ` (state in ${dbFile})` : ' (in memory)'}`)
console.log(`Accounts: ${setup.accounts.map(describe).join('; ')}; profile default is ${setup.defaultAccountId}`)
console.log(`AWS-provided layers: ${setup.providedLayers.map((layer) => `${layer.name}:${layer.version} of ${layer.accountId}`).join(', ') || 'none'} in ${setup.regions.join(', ')}`)
console.log(`Buckets and functions (placeholder code) exist; AWS config in ${awsDir}`)
console.log('Point a shell at it with:\n')
for (const [name, value] of Object.entries(env)) console.log(`  export ${name}=${value}`)
console.log('  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE\n')
console.log(`then, from ${path.dirname(manifestFile)}: npx layers build && npx layers publish && npx layers attach && npx layers audit`)
console.log('Ready (Ctrl-C stops the server).')

const stop = async () => {
  await server.close()
  rmSync(awsDir, {recursive: true, force: true})
  process.exit(0)
}
// The server's worker does not keep the process alive by itself.
setInterval(() => {}, 1 << 30)
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
