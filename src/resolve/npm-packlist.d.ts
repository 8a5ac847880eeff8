// Types of npm-packlist (it ships none): the one call src/resolve/local.ts makes.
declare module 'npm-packlist' {
  /** The fields of an Arborist node npm-packlist reads (path, package.json, bundle edges, workspaces). */
  interface PacklistTree {
    path: string
    package: Record<string, unknown>
    isProjectRoot: boolean
    edgesOut: Map<string, unknown>
    workspaces?: Map<string, string>
  }
  /** The files `npm pack` puts in the package's tarball, relative to its folder (posix separators). */
  function packlist(tree: PacklistTree, options?: {path?: string; prefix?: string; workspaces?: string[]}): Promise<string[]>
  export default packlist
}
