/* global process */
// Compiles the local AWS test server (test/support/aws-server, TypeScript) into .layers/demo/build
// with the project's own tsc, and imports it. Used by the demo and by `npm run demo:server`.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export async function loadAwsServer() {
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(repo, 'demo/tsconfig.json')], {cwd: repo, encoding: 'utf8'})
  const entry = path.join(repo, '.layers/demo/build/test/support/aws-server/index.js')
  if (result.status !== 0 || !existsSync(entry)) {
    process.stderr.write(`demo: compiling test/support/aws-server failed:\n${result.stdout}${result.stderr}`)
    if (!existsSync(entry)) process.exit(1)
  }
  return import(pathToFileURL(entry).href)
}
