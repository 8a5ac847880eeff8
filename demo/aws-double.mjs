/* global process */
// Loads a module of the local AWS double (aws-double/, compiled by `npm run build` into dist/aws-double)
// for the demo and `npm run demo:server`; says how to build it when dist is missing.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export async function loadAwsDouble(module = 'index.js') {
  const entry = path.join(repo, 'dist/aws-double', module)
  if (!existsSync(entry)) {
    process.stderr.write(`demo: ${path.relative(repo, entry)} is missing; run \`npm run build\` first\n`)
    process.exit(1)
  }
  return import(pathToFileURL(entry).href)
}
