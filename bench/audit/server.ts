// The benchmark's AWS endpoint: the shared local AWS test server (aws-double), started in
// its own process so its CPU time is not on the measured client's event loop (AWS is remote too).
// Seeds the bench fleet (fleet.ts; prints how long that took on stderr), writes AWS config files with one profile per account (bench-N) into
// BENCH_DIR, prints {"endpoint", "aws": {AWS_CONFIG_FILE, ...}, "accounts": [{id, profile,
// accessKeyId, secretAccessKey}]} on stdout, then takes one JSON command per stdin line: {"faults": {...}} and/or {"reset": true},
// answering each with {"calls": {"Operation status": count}} for the calls since the last reset, and
// {"targets": {"accountId/region": {"ok": n, "throttled": n}}} for their Lambda calls (2xx, 429), and
// {"cpuSeconds"} the server process has used so far.
import {createInterface} from 'node:readline'
import {startAwsServer} from '../../aws-double/index.js'
import {seeder} from '../../aws-double/seed.js'
import {fleetAccessKey, fleetAccountId, seedFleet, type FleetShape} from './fleet.js'

const shape = JSON.parse(process.env.BENCH_FLEET ?? '{}') as FleetShape
const accessKeys = Object.fromEntries(Array.from({length: shape.accounts}, (_, index) => [fleetAccessKey(index), fleetAccountId(index)]))
const server = await startAwsServer({accounts: accessKeys})
const seedStart = performance.now()
await seedFleet(seeder(server), shape)
process.stderr.write(`bench server: seeded ${shape.accounts * shape.regions.length} account-regions x ${shape.functions} functions x ${shape.aliases ?? 0} aliases in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`)
const accounts = Object.values(accessKeys).map((id, index) => ({id, profile: `bench-${index}`, ...server.credentials(id)}))
const aws = server.writeAwsConfig(process.env.BENCH_DIR!, Object.fromEntries(accounts.map((account) => [account.profile, {accountId: account.id}])))
let since = server.calls.length
process.stdout.write(JSON.stringify({endpoint: server.endpoint, aws, accounts}) + '\n')

for await (const line of createInterface({input: process.stdin})) {
  const command = JSON.parse(line) as {faults?: Parameters<typeof server.setFaults>[0]; reset?: boolean}
  if (command.faults) server.setFaults(command.faults)
  const all = server.calls
  const calls: Record<string, number> = {}
  const targets: Record<string, {ok: number; throttled: number}> = {}
  for (const call of all.slice(since)) {
    calls[`${call.operation} ${call.status}`] = (calls[`${call.operation} ${call.status}`] ?? 0) + 1
    if (call.service !== 'lambda') continue
    const target = (targets[`${call.accountId}/${call.region}`] ??= {ok: 0, throttled: 0})
    if (call.status >= 200 && call.status < 300) target.ok++
    else if (call.status === 429) target.throttled++
  }
  if (command.reset) since = all.length
  const cpu = process.cpuUsage()
  process.stdout.write(JSON.stringify({calls, targets, cpuSeconds: (cpu.user + cpu.system) / 1e6}) + '\n')
}
await server.close()
