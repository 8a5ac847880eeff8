// Owns the root `layers --help`: oclif's own, plus the typical flow as examples (oclif gives commands
// an EXAMPLES section, not the root). Named in package.json `oclif.helpClass`, bundled into dist/cli.
import {Help} from '@oclif/core'

const ROOT_EXAMPLES: ReadonlyArray<[string, string]> = [
  ['Start a project: a commented layers.yaml to edit', 'init'],
  ['Check the manifest, resolve the layers and build their zips', 'validate && layers lock && layers build'],
  ['Publish what changed, put the functions on it, and check every account and region', 'publish && layers attach && layers audit'],
  ['A CI gate: exit 1 on any error finding (drift, a deleted layer version, a wrong architecture)', 'audit --fail-on error'],
]

export default class LayersHelp extends Help {
  override formatRoot(): string {
    const examples = ROOT_EXAMPLES.map(([what, command]) => `${what}\n\n  $ ${this.config.bin} ${command}`).join('\n\n')
    return `${super.formatRoot()}\n\n${this.section('EXAMPLES', examples)}`
  }
}
