// The benchmark's fleet: `accounts` x `regions`, `functions` functions each, every region with three
// versions of an own layer `deps` and an x86_64-only layer `ext`; some functions arm64, some on a
// deprecated runtime, so the audit has findings to compute; optionally `aliases` aliases per function
// on one published version. Seeded with aws-double/seed.ts's direct calls into the shared local AWS test
// server (the server's own handlers, no HTTP), so 200 account-regions x 200 functions take seconds.
import pLimit from 'p-limit'
import type {Seeder} from '../../aws-double/seed.js'

export interface FleetShape {
  accounts: number
  regions: string[]
  functions: number
  /** Aliases per function (default 0). */
  aliases?: number
}

export function fleetAccountId(index: number): string {
  return String(100000000000 + index)
}

export function fleetAccessKey(index: number): string {
  return `AKIDBENCH${String(index).padStart(11, '0')}`
}

export async function seedFleet(seed: Seeder, shape: FleetShape): Promise<void> {
  // Enough direct calls in flight to keep the server's worker busy.
  const limit = pLimit(64)
  const withAliases = async (id: string, region: string, name: string): Promise<void> => {
    if (!shape.aliases) return
    const version = await seed.publishVersion(id, region, name)
    for (let alias = 0; alias < shape.aliases; alias++) await seed.alias(id, region, name, `alias-${alias}`, version)
  }
  const targets = Array.from({length: shape.accounts}, (_, account) => shape.regions.map((region) => ({id: fleetAccountId(account), region}))).flat()
  await Promise.all(
    targets.map(async ({id, region}) => {
      const deps: string[] = []
      for (let version = 0; version < 3; version++) deps.push(await limit(() => seed.layerVersion(id, region, 'deps')))
      const ext = await limit(() => seed.layerVersion(id, region, 'ext', {architectures: ['x86_64']}))
      await Promise.all(
        Array.from({length: shape.functions}, (_, index) =>
          limit(async () => {
            const name = `fn-${String(index).padStart(3, '0')}`
            await seed.function(id, region, {
              name,
              runtime: index % 10 === 0 ? 'nodejs16.x' : 'nodejs24.x',
              architecture: index % 4 === 0 ? 'arm64' : 'x86_64',
              layers: index % 3 === 0 ? [deps[index % 3]!, ext] : [deps[index % 3]!],
            })
            await withAliases(id, region, name)
          }),
        ),
      )
    }),
  )
}
