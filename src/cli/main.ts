// The entry bin/run.js loads from the bundle (scripts/bundle-cli.mjs): oclif's `execute`, from the same
// bundled @oclif/core the command modules use, so the process loads and configures oclif once.
export {execute} from '@oclif/core'
