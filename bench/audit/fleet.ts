// The benchmark's fleet: `accounts` x `regions`, `functions` functions each, every region with three
// versions of an own layer `deps` and an x86_64-only layer `ext`; some functions arm64, some on a
// deprecated runtime, so the audit has findings to compute.
import type {LambdaServer} from '../../test/audit/support/lambda-server.js'

export interface FleetShape {
  accounts: number
  regions: string[]
  functions: number
}

export function fleetAccountId(index: number): string {
  return String(100000000000 + index)
}

export function fleetAccessKey(index: number): string {
  return `AKIABENCH${String(index).padStart(11, '0')}`
}

export function seedFleet(server: LambdaServer, shape: FleetShape): void {
  for (let account = 0; account < shape.accounts; account++) {
    const id = fleetAccountId(account)
    for (const region of shape.regions) {
      const deps = [1, 2, 3].map(() => server.addLayerVersion(id, region, 'deps'))
      const ext = server.addLayerVersion(id, region, 'ext', {architectures: ['x86_64']})
      for (let index = 0; index < shape.functions; index++) {
        server.addFunction(id, region, {
          name: `fn-${String(index).padStart(3, '0')}`,
          runtime: index % 10 === 0 ? 'nodejs16.x' : 'nodejs20.x',
          architecture: index % 4 === 0 ? 'arm64' : 'x86_64',
          layers: index % 3 === 0 ? [deps[index % 3]!, ext] : [deps[index % 3]!],
        })
      }
    }
  }
}
