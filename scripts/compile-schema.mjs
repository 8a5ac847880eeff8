// Precompiles the manifest's JSON Schema into a validator module beside the built schema checker
// (ajv standalone code), so `layers` does not compile the schema on every start (about 100 ms).
// src/manifest/schema-check.ts loads it when present and compiles the schema itself otherwise.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv} from 'ajv'
import standaloneCode from 'ajv/dist/standalone/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const schema = JSON.parse(readFileSync(path.join(root, 'schema', 'layers.schema.json'), 'utf8'))
const {AJV_OPTIONS} = await import(path.join(root, 'dist', 'src', 'manifest', 'schema-check.js'))
const ajv = new Ajv({...AJV_OPTIONS, code: {source: true}})
writeFileSync(path.join(root, 'dist', 'src', 'manifest', 'layers-schema.validate.cjs'), standaloneCode.default(ajv, ajv.compile(schema)))
