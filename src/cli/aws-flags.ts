// Owns the flags every command that talks to AWS shares (publish, attach, audit, prune, outdated, lock,
// history; LayersAwsCommand in base-command.ts gives them to each), as the AWS CLI names them:
// --profile, --endpoint-url, and --connect-timeout / --read-timeout in seconds as its
// --cli-connect-timeout / --cli-read-timeout (LAYERS_CONNECT_TIMEOUT / LAYERS_READ_TIMEOUT as their
// environment fallback), and --max-rps, the run's Lambda request budget (src/aws/request-budget.ts).
// Also the flags several of them declare alike: --account and --region (targetFlags), and for the
// commands that change functions (deploy, attach) --yes, --force and --wait-timeout, and their
// FUNCTION arguments.
import {Args, Flags} from '@oclif/core'
import type {AwsConnection} from '../aws/clients.js'
import {DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, NO_ANSWER_RETRY_WINDOW_MS, resolveTimeouts, RETRY_WINDOW_MS, WAIT_NOTICE_MS} from '../aws/time-bounds.js'
import {DEFAULT_MAX_RPS, LAMBDA_QUOTAS} from '../aws/request-budget.js'
import {flagValueError} from './usage.js'

export const awsFlags = {
  profile: Flags.string({
    description: 'Shared-config profile for the accounts that name neither profile nor roleArn in the manifest, and the source credentials of roleArn (overrides AWS_PROFILE).',
    helpGroup: 'AWS',
  }),
  'endpoint-url': Flags.string({
    description: 'Send every AWS call (Lambda, S3, STS, Organizations, Account) to this URL, e.g. a local AWS double; overrides AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.',
    helpGroup: 'AWS',
    parse: async (input) => {
      if (!/^https?:\/\/[^\s/]+/i.test(input)) throw new Error(`"${input}" is not an http:// or https:// URL, e.g. http://localhost:4566`)
      return input
    },
  }),
  'connect-timeout': Flags.string({
    description: `Seconds to wait for a connection to AWS before the attempt fails; 0: no limit. Default ${DEFAULT_CONNECT_TIMEOUT_S}, or LAYERS_CONNECT_TIMEOUT.`,
    helpGroup: 'AWS',
  }),
  'read-timeout': Flags.string({
    description: `Seconds an AWS call may go without sending or receiving anything (a stalled endpoint; an upload that keeps sending is never cut); 0: no limit. Default ${DEFAULT_READ_TIMEOUT_S}, or LAYERS_READ_TIMEOUT.`,
    helpGroup: 'AWS',
  }),
  'max-rps': Flags.string({
    description: `Lambda control-plane requests per second per account and region, for every call of this run (GetFunction and GetPolicy get the same share of their own quotas); Lambda allows ${LAMBDA_QUOTAS.control}/s for the whole account and region. Default settings.maxRps, else ${DEFAULT_MAX_RPS}.`,
    helpGroup: 'AWS',
  }),
}

/**
 * --account and --region, the manifest targets a command works on; each description ends with what
 * the command takes when the flag is not given (`accounts` absent: nothing is said).
 */
export function targetFlags(defaults: {accounts?: string; regions: string}) {
  return {
    account: Flags.string({char: 'a', description: `Manifest account name or id (repeatable)${defaults.accounts === undefined ? '' : `; default: ${defaults.accounts}`}.`, multiple: true}),
    region: Flags.string({char: 'r', description: `Region (repeatable); default: ${defaults.regions}.`, multiple: true}),
  }
}

/** The FUNCTION arguments of a command that changes functions (strict = false: any number of them). */
export const functionTargetArgs = {
  function: Args.string({description: 'Function keys or names from the manifest (default: all).', required: false}),
}

/** --yes of a command that changes functions: `action` is what it does to them, e.g. "Deploy to". */
export function protectedYesFlag(action: string) {
  return Flags.boolean({char: 'y', description: `${action} functions in protected accounts without asking (needed without a terminal).`, default: false})
}

/** --force of a command that changes functions: `verb` is what it does to them, e.g. "deploy". */
export function ownedForceFlag(verb: string) {
  return Flags.boolean({description: `Also ${verb} functions a CloudFormation stack or an ownership tag says another tool owns (its next deploy reverts the change).`, default: false})
}

/** --wait-timeout of a command that waits for each function update to finish. */
export const waitTimeoutFlag = Flags.integer({description: 'Seconds to wait for each update to finish (LastUpdateStatus).', default: 120, min: 1})

/** The values of targetFlags with --dry-run and --yes (each command says what they do), of a command that asks before some writes. */
export interface ConfirmedTargetFlagValues {
  manifest: string
  account?: string[]
  region?: string[]
  'dry-run': boolean
  yes: boolean
}

/** Those of a command that changes functions. */
export interface FunctionChangeFlagValues extends ConfirmedTargetFlagValues, AwsFlagValues {
  force: boolean
  'wait-timeout': number
}

export interface AwsFlagValues {
  profile?: string
  'endpoint-url'?: string
  'connect-timeout'?: string
  'read-timeout'?: string
  'max-rps'?: string
}

/** What the help of each of those commands says about credentials, endpoints and regions. */
export const AWS_CONVENTIONS_HELP = `Credentials: an account's manifest profile or roleArn; else --profile, else AWS_PROFILE, else the SDK's default chain (environment keys, SSO, web identity, container and instance roles); roleArn is assumed with the account's profile, else --profile, else the same chain. Endpoint: --endpoint-url for every service, else AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_LAMBDA), else AWS_ENDPOINT_URL, else the profile's endpoint_url, else AWS. Regions: the manifest's (an account's regions, else settings.regions), narrowed with --region; an account named by id with --account or found by --org has --region, else settings.regions, else AWS_REGION, else AWS_DEFAULT_REGION.`

/** What the help of each of those commands says about time bounds. */
export const AWS_TIME_BOUNDS_HELP = `Every AWS call is bounded: --connect-timeout and --read-timeout per attempt; retries stop ${NO_ANSWER_RETRY_WINDOW_MS / 1000} s into a call that got no answer at all (refused, reset, timed out), and ${RETRY_WINDOW_MS / 1000} s into any call (throttling, server errors). A call still waiting after ${WAIT_NOTICE_MS / 1000} s is named on the terminal; one that got no answer fails with ERR_LAYERS_AWS_NO_ANSWER, naming the operation, account, region and endpoint, and later calls to that endpoint in the same run fail at once (until one to it succeeds).`

/** How this run reaches AWS, from those flags: the timeouts (flags, else environment, else defaults; a bad value is exit 2 naming it), profile and endpoint. */
export function awsConnection(flags: AwsFlagValues): AwsConnection {
  return {
    timeouts: resolveTimeouts({connectTimeout: flags['connect-timeout'], readTimeout: flags['read-timeout']}),
    ...(flags.profile !== undefined ? {profile: profileName(flags.profile)} : {}),
    ...(flags['endpoint-url'] !== undefined ? {endpoint: flags['endpoint-url']} : {}),
    ...(flags['max-rps'] !== undefined ? {maxRps: maxRps(flags['max-rps'])} : {}),
  }
}

/** --max-rps: a number of requests per second above 0, at most 1000. */
function maxRps(text: string): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  if (!(value > 0 && value <= 1000)) {
    throw flagValueError('max-rps', `requests per second must be a number above 0 and at most 1000, got "${text}".`, `e.g. --max-rps ${DEFAULT_MAX_RPS} (Lambda allows ${LAMBDA_QUOTAS.control}/s per account and region for every caller together).`)
  }
  return value
}

function profileName(name: string): string {
  if (name.trim() === '') throw flagValueError('profile', 'a profile name is needed, and none was given.', 'Name a profile of ~/.aws/config, e.g. --profile dev, or leave --profile out.')
  return name
}
