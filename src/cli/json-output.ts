// Owns the `schemaVersion` every --json output carries: one integer per command (and one for the
// error envelope), each pinned by its schema/<name>.schema.json. A version is raised only for a change
// that can break a consumer written against the previous schema (a field removed, renamed, retyped or
// given another meaning, a new enum value); adding a field keeps it. See "Machine output" in the README.
import {AUDIT_SCHEMA_VERSION} from '../audit/types.js'

export const SCHEMA_VERSIONS = {
  advisories: 1,
  attach: 1,
  /** The audit report carries it itself (also in the saved history and `--format json`). */
  audit: AUDIT_SCHEMA_VERSION,
  build: 1,
  deploy: 1,
  export: 1,
  find: 1,
  history: 1,
  image: 1,
  init: 1,
  licenses: 1,
  lock: 1,
  outdated: 1,
  package: 1,
  promote: 1,
  prune: 1,
  publish: 1,
  rollback: 1,
  run: 1,
  sbom: 1,
  size: 1,
  validate: 1,
  /** The `{error: ...}` envelope of every failed command (schema/error.schema.json). */
  error: 1,
} as const

export type JsonOutputName = keyof typeof SCHEMA_VERSIONS

/** `data` as --json prints it: `schemaVersion` first, then its own fields. */
export function withSchemaVersion<T extends object>(name: JsonOutputName, data: T): {schemaVersion: number} & T {
  return {schemaVersion: SCHEMA_VERSIONS[name], ...data}
}

export function isJsonOutputName(name: string): name is JsonOutputName {
  return Object.hasOwn(SCHEMA_VERSIONS, name)
}
