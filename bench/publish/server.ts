// The benchmark's AWS endpoint (aws-double) in its own process, so its CPU time is not on
// the measured CLI's machine budget twice (AWS is remote too). Writes AWS config files for profiles
// `dev` and `prod` into BENCH_AWS_DIR, prints {"endpoint", "env"} on stdout, then answers one JSON
// command per stdin line: {"calls": true, "reset"?: true} -> the calls seen (since the last reset).
import {createInterface} from 'node:readline'
import {startAwsServer} from '../../aws-double/index.js'

const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 20)
const server = await startAwsServer({faults: {latencyMs}})
const env = server.writeAwsConfig(process.env.BENCH_AWS_DIR!, {dev: {accountId: '111111111111'}, prod: {accountId: '222222222222'}})
process.stdout.write(JSON.stringify({endpoint: server.endpoint, env}) + '\n')

let mark = 0
for await (const line of createInterface({input: process.stdin})) {
  const command = JSON.parse(line) as {calls?: boolean; reset?: boolean}
  const calls = server.calls.slice(mark).map((call) => ({service: call.service, operation: call.operation, status: call.status}))
  if (command.reset) mark = server.calls.length
  process.stdout.write(JSON.stringify({calls}) + '\n')
}
await server.close()
