// Whether uv (the pip layers' resolver) is on PATH, for the pip-layer tests. Without it they are
// skipped on a developer's machine; under CI (which installs it, .ci/python.sh) its absence fails them.
import {toolOnPath} from './tool.js'

export const hasUv = toolOnPath('uv', ['--version'], 'CI installs it with .ci/python.sh (python3 -m pip install uv)')
