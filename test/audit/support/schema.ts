// Validates an audit report against the documented schema (schema/audit.schema.json, whose
// `advisories` refers to advisories.schema.json, which refers to find.schema.json) with ajv in strict
// mode; returns the problems as `path message` lines (empty: valid).
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'

const schemaOf = (name: string): object => JSON.parse(readFileSync(path.join(import.meta.dirname, `../../../schema/${name}.schema.json`), 'utf8')) as object
const schema = schemaOf('audit')

export function validateAuditJson(data: unknown): string[] {
  const ajv = new Ajv({allErrors: true, strict: true})
  ajv.addFormat('date-time', (text: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text)))
  ajv.addSchema(schemaOf('find')).addSchema(schemaOf('advisories'))
  const validate = ajv.compile(schema)
  return validate(data) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`)
}
