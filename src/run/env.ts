// Owns the environment `layers run` gives a function: the variables Lambda's runtimes set (the
// AWS "defined runtime environment variables"), with /opt, /var/task and /var/runtime mapped to the
// directories of the local assembly. Nothing else of the caller's environment leaks in except the
// AWS credential variables (so SDK calls work as the function's role would) and `--env` values.
// Pure: plain data in, plain data out.
import path from 'node:path'

export interface RunDirs {
  /** Stands for /opt (the extracted layers). */
  opt: string
  /** Stands for /var/task (the function package). */
  task: string
  /** Stands for /var/runtime (empty: the AWS SDK of the managed runtime is not available locally). */
  runtime: string
}

export interface EnvironmentInput {
  functionName: string
  handler: string
  runtime: string
  region: string
  memoryMb: number
  runtimeApi: string
  dirs: RunDirs
  /** Directory of the local `node` (or `python3`) binary (stands for /var/lang/bin). */
  langBinDir: string
  /** The caller's environment (only AWS credential variables are taken from it). */
  host: Readonly<Record<string, string | undefined>>
  /** User-given variables (the function's configuration); they win over everything but the reserved ones. */
  extra: Readonly<Record<string, string>>
  /** Log stream date and id (for AWS_LAMBDA_LOG_STREAM_NAME). */
  now: Date
  streamId: string
}

const PASSED_THROUGH = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']

/** Variables Lambda reserves: a function cannot set them. */
export const RESERVED = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
])

/** NODE_PATH of the nodejsNN.x runtimes: /opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task. */
export function nodePath(runtime: string, dirs: RunDirs): string[] {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1]
  return [
    ...(major ? [path.join(dirs.opt, 'nodejs', `node${major}`, 'node_modules')] : []),
    path.join(dirs.opt, 'nodejs', 'node_modules'),
    path.join(dirs.runtime, 'node_modules'),
    dirs.runtime,
    dirs.task,
  ]
}

export function lambdaEnvironment(input: EnvironmentInput): Record<string, string> {
  const {dirs} = input
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(input.extra)) if (!RESERVED.has(key)) env[key] = value
  for (const key of PASSED_THROUGH) {
    const value = input.host[key]
    if (value) env[key] = value
  }
  const day = input.now.toISOString().slice(0, 10).replaceAll('-', '/')
  Object.assign(env, {
    _HANDLER: input.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${input.streamId}`,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    LAMBDA_TASK_ROOT: dirs.task,
    LAMBDA_RUNTIME_DIR: dirs.runtime,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: [input.langBinDir, '/usr/local/bin', '/usr/bin', '/bin', path.join(dirs.opt, 'bin')].join(':'),
    LD_LIBRARY_PATH: ['/lib64', '/usr/lib64', dirs.runtime, path.join(dirs.runtime, 'lib'), dirs.task, path.join(dirs.task, 'lib'), path.join(dirs.opt, 'lib')].join(':'),
  })
  if (input.runtime.startsWith('nodejs')) {
    env.AWS_EXECUTION_ENV = `AWS_Lambda_${input.runtime}`
    env.NODE_PATH = nodePath(input.runtime, dirs).join(':')
  }
  if (input.runtime.startsWith('python')) {
    env.AWS_EXECUTION_ENV = `AWS_Lambda_${input.runtime}`
    env.PYTHONPATH = dirs.runtime
  }
  return env
}
