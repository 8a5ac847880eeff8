// Owns the names layers refuses for what the user names (layers, accounts, functions, channels): the
// properties every JavaScript object inherits (__proto__, constructor, toString, hasOwnProperty ...).
// The manifest, lockfile.json and every --json result keep these names as keys of plain objects,
// where `__proto__` is lost on assignment and `toString` reads as present on an object that lacks it,
// in layers and in every script that reads those files; AWS allows them, JSON consumers do not.
// `prototype` is not among them: plain objects do not inherit it.

/** Object.prototype's own property names. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype))

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name)
}

/** Why a reserved name is refused and how to fix it, for the manifest and lockfile messages. */
export function reservedNameReason(name: string): string {
  return `"${name}" is a property every JavaScript object inherits (Object.prototype.${name}), so it cannot be a key of lockfile.json or of the --json output`
}
