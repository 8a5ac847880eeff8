// Whether a command-line tool a group of tests needs is on PATH. Without it those tests are skipped on
// a developer's machine; under CI (whose .ci/run installs it) its absence fails them, with `ciHint`.
import {execFileSync} from 'node:child_process'

export function toolOnPath(command: string, versionArgs: string[], ciHint: string): boolean {
  try {
    execFileSync(command, versionArgs, {stdio: 'ignore'})
    return true
  } catch {
    if (process.env.CI) throw new Error(`${command} is not on PATH; ${ciHint}`)
    return false
  }
}
