// Owns the flags every command that talks to AWS shares (publish, attach, audit, prune, outdated):
// --connect-timeout and --read-timeout, in seconds as the AWS CLI's --cli-connect-timeout and
// --cli-read-timeout, with LAYERS_CONNECT_TIMEOUT / LAYERS_READ_TIMEOUT as their environment fallback.
import {Flags} from '@oclif/core'
import {DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, NO_ANSWER_RETRY_WINDOW_MS, resolveTimeouts, RETRY_WINDOW_MS, WAIT_NOTICE_MS, type AwsTimeouts} from '../aws/time-bounds.js'

export const awsTimeoutFlags = {
  'connect-timeout': Flags.string({
    description: `Seconds to wait for a connection to AWS before the attempt fails; 0: no limit. Default ${DEFAULT_CONNECT_TIMEOUT_S}, or LAYERS_CONNECT_TIMEOUT.`,
    helpGroup: 'AWS',
  }),
  'read-timeout': Flags.string({
    description: `Seconds an AWS call may go without sending or receiving anything (a stalled endpoint; an upload that keeps sending is never cut); 0: no limit. Default ${DEFAULT_READ_TIMEOUT_S}, or LAYERS_READ_TIMEOUT.`,
    helpGroup: 'AWS',
  }),
}

/** What the help of each of those commands says about time bounds. */
export const AWS_TIME_BOUNDS_HELP = `Every AWS call is bounded: --connect-timeout and --read-timeout per attempt; retries stop ${NO_ANSWER_RETRY_WINDOW_MS / 1000} s into a call that got no answer at all (refused, reset, timed out), and ${RETRY_WINDOW_MS / 1000} s into any call (throttling, server errors). A call still waiting after ${WAIT_NOTICE_MS / 1000} s is named on the terminal; one that got no answer fails with ERR_LAYERS_AWS_NO_ANSWER, naming the operation, account, region and endpoint, and later calls to that endpoint in the same run fail at once (until one to it succeeds).`

/** The timeouts of this run: the flags, else the environment, else the defaults (a bad value is exit 2 naming it). */
export function awsTimeouts(flags: {'connect-timeout'?: string; 'read-timeout'?: string}): AwsTimeouts {
  return resolveTimeouts({connectTimeout: flags['connect-timeout'], readTimeout: flags['read-timeout']})
}
