// Owns `layers init`: writes the commented starter manifest from templates/init (and the example
// function it names) into a directory, never overwriting an existing file.
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {UserInputError} from '../errors/index.js'
import {writeFileAtomically} from '../fsutil/atomic.js'
import {toolRoot} from '../project/paths.js'

export interface InitResult {
  manifest: string
  created: string[]
}

const STARTER_FUNCTION = `// A starter handler: its dependencies come from the layers listed in layers.yaml.
exports.handler = async (event) => ({statusCode: 200, body: JSON.stringify({hello: 'world', event})})
`

export async function initProject(manifestPath: string, options: {schemaUrl?: string} = {}): Promise<InitResult> {
  const manifest = path.resolve(manifestPath)
  if (existsSync(manifest)) {
    throw new UserInputError('ERR_LAYERS_INIT_EXISTS', `${manifest} already exists; layers init never overwrites it.`, {
      hint: 'Edit the existing manifest, or pass --manifest with a new path.',
    })
  }
  const template = await readFile(path.join(toolRoot(), 'templates', 'init', 'layers.yaml'), 'utf8')
  const schema = options.schemaUrl ?? path.relative(path.dirname(manifest), path.join(toolRoot(), 'schema', 'layers.schema.json')).split(path.sep).join('/')
  const created = [manifest]
  await writeFileAtomically(manifest, template.replace('{{schema}}', schema))
  const handler = path.join(path.dirname(manifest), 'src', 'hello', 'index.js')
  if (!existsSync(handler)) {
    await writeFileAtomically(handler, STARTER_FUNCTION)
    created.push(handler)
  }
  return {manifest, created}
}
