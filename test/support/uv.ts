// Whether uv (the pip layers' resolver) is on PATH, for the pip-layer tests. Without it they are
// skipped on a developer's machine; under CI (which installs it, .ci/python.sh) its absence fails them.
import {execFileSync} from 'node:child_process'

export const hasUv = ((): boolean => {
  try {
    execFileSync('uv', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    if (process.env.CI) throw new Error('uv is not on PATH; CI installs it with .ci/python.sh (python3 -m pip install uv)')
    return false
  }
})()
