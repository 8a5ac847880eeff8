// Owns the Lambda runtime identifiers a manifest may name, with the date AWS deprecates each (the
// day security patches stop) and, for Node.js runtimes, the Node.js major they run. The audit's
// `runtime` finding and the resolver's engines check read this table; update it when AWS announces.

export interface LambdaRuntime {
  runtime: string
  /** YYYY-MM-DD; absent while no end is announced. */
  deprecated?: string
  /** Node.js major version of a nodejs* runtime. */
  nodeMajor?: number
  /** True for OS-only runtimes (provided.*) that run a bootstrap from the function or a layer. */
  custom?: true
}

export const LAMBDA_RUNTIMES: readonly LambdaRuntime[] = [
  {runtime: 'nodejs', deprecated: '2016-10-31', nodeMajor: 0},
  {runtime: 'nodejs4.3', deprecated: '2020-03-05', nodeMajor: 4},
  {runtime: 'nodejs6.10', deprecated: '2019-08-12', nodeMajor: 6},
  {runtime: 'nodejs8.10', deprecated: '2020-03-06', nodeMajor: 8},
  {runtime: 'nodejs10.x', deprecated: '2021-07-30', nodeMajor: 10},
  {runtime: 'nodejs12.x', deprecated: '2023-03-31', nodeMajor: 12},
  {runtime: 'nodejs14.x', deprecated: '2023-12-04', nodeMajor: 14},
  {runtime: 'nodejs16.x', deprecated: '2024-06-12', nodeMajor: 16},
  {runtime: 'nodejs18.x', deprecated: '2025-09-01', nodeMajor: 18},
  {runtime: 'nodejs20.x', deprecated: '2026-04-30', nodeMajor: 20},
  {runtime: 'nodejs22.x', deprecated: '2027-04-30', nodeMajor: 22},
  {runtime: 'nodejs24.x', nodeMajor: 24},
  {runtime: 'python2.7', deprecated: '2021-07-15'},
  {runtime: 'python3.6', deprecated: '2022-07-18'},
  {runtime: 'python3.7', deprecated: '2023-12-04'},
  {runtime: 'python3.8', deprecated: '2024-10-14'},
  {runtime: 'python3.9', deprecated: '2025-12-15'},
  {runtime: 'python3.10', deprecated: '2026-06-30'},
  {runtime: 'python3.11', deprecated: '2026-06-30'},
  {runtime: 'python3.12', deprecated: '2028-10-31'},
  {runtime: 'python3.13', deprecated: '2029-06-30'},
  {runtime: 'python3.14'},
  {runtime: 'java8', deprecated: '2024-01-08'},
  {runtime: 'java8.al2', deprecated: '2026-06-30'},
  {runtime: 'java11', deprecated: '2026-06-30'},
  {runtime: 'java17', deprecated: '2026-06-30'},
  {runtime: 'java21', deprecated: '2029-06-30'},
  {runtime: 'java25'},
  {runtime: 'dotnetcore3.1', deprecated: '2023-04-03'},
  {runtime: 'dotnet6', deprecated: '2024-12-20'},
  {runtime: 'dotnet7', deprecated: '2024-05-14'},
  {runtime: 'dotnet8', deprecated: '2026-11-10'},
  {runtime: 'dotnet10'},
  {runtime: 'ruby2.5', deprecated: '2021-07-30'},
  {runtime: 'ruby2.7', deprecated: '2023-12-07'},
  {runtime: 'ruby3.2', deprecated: '2026-03-31'},
  {runtime: 'ruby3.3', deprecated: '2027-03-31'},
  {runtime: 'ruby3.4'},
  {runtime: 'go1.x', deprecated: '2024-01-08'},
  {runtime: 'provided', deprecated: '2024-01-08', custom: true},
  {runtime: 'provided.al2', deprecated: '2026-06-30', custom: true},
  {runtime: 'provided.al2023', custom: true},
]

const byName = new Map(LAMBDA_RUNTIMES.map((entry) => [entry.runtime, entry]))

export function lambdaRuntime(runtime: string): LambdaRuntime | undefined {
  return byName.get(runtime)
}

export const RUNTIME_NAMES: readonly string[] = LAMBDA_RUNTIMES.map((entry) => entry.runtime)

/** Compatible runtimes of a custom-runtime layer. */
export const CUSTOM_RUNTIMES = ['provided.al2023', 'provided.al2'] as const
