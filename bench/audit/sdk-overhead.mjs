#!/usr/bin/env node
/* global process, console */
// Benchmark behind src/aws/lambda-rest.ts (the audit's hot reads sent without the SDK's per-call
// middleware stack); not part of `npm test`. Run: npm run build && node bench/audit/sdk-overhead.mjs.
// The same GetFunctionConfiguration, BENCH_CALLS times (default 20000) with 40 in flight, against a
// local server in a process of its own that answers every request with one fixed function
// configuration (so only the client's CPU is measured): through the SDK's LambdaClient.send (adaptive
// retries, cacheMiddleware on) and through lambdaRestGet (no SDK client), each as src/aws/clients.ts
// makes it. Prints the client CPU per call of each, alternating rounds (median of BENCH_ROUNDS, default
// 5), and the ratio REST/SDK (below 1: the REST path costs less). Then the signature alone, behind
// src/aws/sigv4-get.ts: BENCH_SIGNATURES (default 100000) GETs signed for BENCH_ACCOUNTS (default 200)
// account-regions in turn, as an audit of that many signs them, by the SDK's SignatureV4 (one per
// account-region, its process-wide key cache of 50 shared) and by GetRequestSigner: CPU and bytes
// allocated per signature, and the ratio ours/SDK.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import path from 'node:path'
import {createRequire} from 'node:module'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {median} from '../util.mjs'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {GetFunctionConfigurationCommand} = createRequire(path.join(repo, 'package.json'))('@aws-sdk/client-lambda')
const {awsClientFactory} = await import(path.join(repo, 'dist/src/aws/clients.js'))
const {RequestBudget} = await import(path.join(repo, 'dist/src/aws/request-budget.js'))
const {GetRequestSigner} = await import(path.join(repo, 'dist/src/aws/sigv4-get.js'))
const requireOfSdk = createRequire(createRequire(path.join(repo, 'package.json')).resolve('@aws-sdk/core'))
const {SignatureV4} = requireOfSdk('@smithy/signature-v4')
const {HttpRequest} = requireOfSdk('@smithy/core/protocols')
const {Sha256} = requireOfSdk('@smithy/core/checksum')

const CALLS = Number(process.env.BENCH_CALLS ?? 20000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const IN_FLIGHT = 40
const REGION = 'eu-west-1'

const answer = JSON.stringify({
  FunctionName: 'orders',
  FunctionArn: `arn:aws:lambda:${REGION}:111111111111:function:orders:1`,
  Runtime: 'nodejs22.x',
  Role: 'arn:aws:iam::111111111111:role/orders',
  Handler: 'index.handler',
  CodeSize: 1234,
  Timeout: 3,
  MemorySize: 128,
  LastModified: '2026-01-01T00:00:00.000+0000',
  CodeSha256: 'c2hhMjU2',
  Version: '1',
  RevisionId: 'r1',
  Layers: [{Arn: `arn:aws:lambda:${REGION}:111111111111:layer:common:3`, CodeSize: 100}],
  State: 'Active',
  PackageType: 'Zip',
  Architectures: ['x86_64'],
})
const serverCode = `
const http = require('node:http')
const body = Buffer.from(process.argv[1])
http.createServer((request, response) => {
  request.resume()
  request.on('end', () => { response.writeHead(200, {'content-type': 'application/json', 'x-amzn-requestid': 'bench'}); response.end(body) })
}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`
const server = spawn(process.execPath, ['-e', serverCode, answer], {stdio: ['ignore', 'pipe', 'inherit']})
const port = Number((await createInterface({input: server.stdout})[Symbol.asyncIterator]().next()).value)

// Both as the product's client factory makes them, for one account's default credentials.
Object.assign(process.env, {AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true'})
const budget = new RequestBudget()
budget.useFlag(1e9)
const factory = awsClientFactory({endpoint: `http://127.0.0.1:${port}`, budget})
const account = {name: 'bench', id: '111111111111', regions: [REGION]}
const client = await factory.lambda(account, REGION)
const get = await factory.lambdaGet(account, REGION)

const ways = {
  sdk: () => client.send(new GetFunctionConfigurationCommand({FunctionName: 'orders', Qualifier: '1'})),
  rest: () => get('GetFunctionConfiguration', '/2015-03-31/functions/orders/configuration', {Qualifier: '1'}),
}

/** Client CPU ms per call of CALLS calls, IN_FLIGHT at once. */
async function cpuPerCall(call) {
  let started = 0
  const cpu = process.cpuUsage()
  await Promise.all(
    Array.from({length: IN_FLIGHT}, async () => {
      while (started++ < CALLS) {
        const reply = await call()
        if (reply.FunctionName !== 'orders') throw new Error(`unexpected answer ${JSON.stringify(reply)}`)
      }
    }),
  )
  const used = process.cpuUsage(cpu)
  return (used.user + used.system) / 1000 / CALLS
}

// Warm both paths (JIT, sockets) before measuring.
for (const call of Object.values(ways)) await cpuPerCall(call)
const samples = {sdk: [], rest: []}
for (let round = 0; round < ROUNDS; round++) for (const [name, call] of Object.entries(ways)) samples[name].push(await cpuPerCall(call))
server.kill()
await once(server, 'exit')
const sdk = median(samples.sdk)
const rest = median(samples.rest)
console.log(`GetFunctionConfiguration x ${CALLS}, ${IN_FLIGHT} in flight, client CPU per call (median of ${ROUNDS} rounds):`)
console.log(`  SDK LambdaClient.send: ${sdk.toFixed(3)} ms`)
console.log(`  lambdaRestGet:         ${rest.toFixed(3)} ms`)
console.log(`ratio REST/SDK: ${(rest / sdk).toFixed(2)} (below 1: the REST path costs less CPU per call)`)

// The signature alone: the same requests, the account-regions taken in turn.
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 100000)
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200)
const keysOf = (n) => ({accessKeyId: `AKIDBENCH${n}`, secretAccessKey: `secret-${n}`, sessionToken: `token-${n}`})
const signers = {
  sdk: Array.from({length: ACCOUNTS}, (_, n) => new SignatureV4({credentials: keysOf(n), region: REGION, service: 'lambda', sha256: Sha256})),
  ours: Array.from({length: ACCOUNTS}, (_, n) => new GetRequestSigner(() => Promise.resolve(keysOf(n)), REGION, 'lambda')),
}
const unsigned = () =>
  new HttpRequest({method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/2015-03-31/functions/orders/configuration', query: {Qualifier: '1'}, headers: {host: `127.0.0.1:${port}`, 'user-agent': 'layers'}})

/** CPU ms and bytes allocated per signature of SIGNATURES, the account-regions' signers in turn. */
async function perSignature(list) {
  const signingDate = new Date()
  const heap = process.memoryUsage().heapUsed
  // Bytes allocated: heapUsed's growth over windows of WINDOW signatures, those a collection ran in left out.
  const WINDOW = 64
  let allocated = 0
  let counted = 0
  let before = heap
  const cpu = process.cpuUsage()
  for (let n = 0; n < SIGNATURES; n++) {
    await list[n % ACCOUNTS].sign(unsigned(), {signingDate, signingRegion: REGION, signingService: 'lambda'})
    if (n % WINDOW === WINDOW - 1) {
      const now = process.memoryUsage().heapUsed
      if (now > before) {
        allocated += now - before
        counted += WINDOW
      }
      before = now
    }
  }
  const used = process.cpuUsage(cpu)
  return {cpu: (used.user + used.system) / 1000 / SIGNATURES, bytes: allocated / counted}
}

for (const list of Object.values(signers)) await perSignature(list)
const signatureSamples = {sdk: [], ours: []}
for (let round = 0; round < ROUNDS; round++) for (const [name, list] of Object.entries(signers)) signatureSamples[name].push(await perSignature(list))
const signatureOf = (name) => ({cpu: median(signatureSamples[name].map((s) => s.cpu)), bytes: median(signatureSamples[name].map((s) => s.bytes))})
const sdkSignature = signatureOf('sdk')
const ourSignature = signatureOf('ours')
console.log(`GET signature x ${SIGNATURES}, ${ACCOUNTS} account-regions in turn (median of ${ROUNDS} rounds):`)
console.log(`  SDK SignatureV4:  ${(sdkSignature.cpu * 1000).toFixed(1)} us, ${(sdkSignature.bytes / 1024).toFixed(1)} KB allocated`)
console.log(`  GetRequestSigner: ${(ourSignature.cpu * 1000).toFixed(1)} us, ${(ourSignature.bytes / 1024).toFixed(1)} KB allocated`)
console.log(`ratio ours/SDK: CPU ${(ourSignature.cpu / sdkSignature.cpu).toFixed(2)}, allocation ${(ourSignature.bytes / sdkSignature.bytes).toFixed(2)}`)
