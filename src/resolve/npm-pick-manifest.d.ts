// Types of npm-pick-manifest (it ships none): the one call the resolver makes.
declare module 'npm-pick-manifest' {
  interface PickOptions {
    defaultTag?: string
    before?: string | Date | null
    nodeVersion?: string
    npmVersion?: string | null
    includeStaged?: boolean
    avoid?: string | null
    avoidStrict?: boolean
  }
  /** Picks the version of `packument` npm installs for `wanted` (range, version or tag). Throws ETARGET / ENOVERSIONS. */
  function pickManifest(packument: unknown, wanted: string, options?: PickOptions): {name: string; version: string}
  export default pickManifest
}
