// Runs a command while the AWS test server stalls every call of the given operations (no answer at
// all), timing it, and lifts the stall afterwards whatever happened: the time-bounds tests of each
// writing command share it.
import type {AwsServer} from '../../aws-double/index.js'

export async function whileStalled<T>(server: AwsServer, operations: string[], run: () => Promise<T>): Promise<{result: T; seconds: number}> {
  server.setFaults({stallRate: 1, operations})
  const started = performance.now()
  try {
    const result = await run()
    return {result, seconds: (performance.now() - started) / 1000}
  } finally {
    server.setFaults(undefined)
  }
}
