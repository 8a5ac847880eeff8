#!/usr/bin/env node
/* global process, console, setInterval */
// `npm run demo:server [-- --port 4566] [--db FILE] [--memory]`: starts the local AWS test server by hand
// (state in .layers/demo/aws.db unless --memory), writes an AWS config for its two default accounts
// and prints the environment to point `layers` (or any SDK program) at it. Ctrl-C stops it.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadAwsServer, repo} from './aws-double.mjs'

const {values} = parseArgs({
  options: {port: {type: 'string', default: '4566'}, db: {type: 'string'}, memory: {type: 'boolean', default: false}, region: {type: 'string', default: 'us-east-1'}},
})
const {startAwsServer} = await loadAwsServer()
const dbFile = values.memory ? undefined : path.resolve(values.db ?? path.join(repo, '.layers/demo/aws.db'))
const server = await startAwsServer({
  port: Number(values.port),
  ...(dbFile ? {dbFile} : {}),
  roles: {'arn:aws:iam::222222222222:role/layers-deployer': {trust: ['111111111111']}},
})
const awsDir = mkdtempSync(path.join(tmpdir(), 'layers-aws-'))
const env = server.writeAwsConfig(awsDir, {
  default: {accountId: '111111111111', region: values.region},
  account2: {accountId: '222222222222', region: values.region},
  'account2-role': {roleArn: 'arn:aws:iam::222222222222:role/layers-deployer', sourceProfile: 'default', region: values.region},
})
console.log(`Local AWS test server on ${server.endpoint}${dbFile ? ` (state in ${dbFile})` : ' (in memory)'}`)
console.log('Accounts: 111111111111 (profile default), 222222222222 (profiles account2, account2-role)')
console.log('Point a shell at it with:\n')
console.log(`  export AWS_ENDPOINT_URL=${server.endpoint}`)
console.log(`  export AWS_CONFIG_FILE=${env.AWS_CONFIG_FILE}`)
console.log(`  export AWS_SHARED_CREDENTIALS_FILE=${env.AWS_SHARED_CREDENTIALS_FILE}`)
console.log('  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE\n')
const stop = async () => {
  await server.close()
  process.exit(0)
}
// The server's worker does not keep the process alive by itself.
setInterval(() => {}, 1 << 30)
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
