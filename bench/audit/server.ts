// The benchmark's Lambda endpoint in its own process, so its CPU time is not on the measured
// client's event loop (AWS is remote too). Seeds the bench fleet, prints {"endpoint", "accounts": [{id, key}]} on stdout,
// then takes one JSON command per stdin line: {"faults": {...}} or {"calls": true}, answering each
// with one JSON line.
import {createInterface} from 'node:readline'
import {startLambdaServer} from '../../test/audit/support/lambda-server.js'
import {fleetAccessKey, fleetAccountId, seedFleet, type FleetShape} from './fleet.js'

const shape = JSON.parse(process.env.BENCH_FLEET ?? '{}') as FleetShape
const accessKeys = Object.fromEntries(Array.from({length: shape.accounts}, (_, index) => [fleetAccessKey(index), fleetAccountId(index)]))
const server = await startLambdaServer({accessKeys, seed: 42})
seedFleet(server, shape)
const accounts = Object.entries(accessKeys).map(([key, id]) => ({id, key}))
process.stdout.write(JSON.stringify({endpoint: server.endpoint, accounts}) + '\n')

for await (const line of createInterface({input: process.stdin})) {
  const command = JSON.parse(line) as {faults?: Parameters<typeof server.setFaults>[0]; calls?: boolean; reset?: boolean}
  if (command.faults) server.setFaults(command.faults)
  const calls = {...server.calls}
  if (command.reset) for (const key of Object.keys(server.calls)) delete server.calls[key]
  process.stdout.write(JSON.stringify({calls}) + '\n')
}
await server.close()
