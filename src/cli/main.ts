// The entry bin/run.js loads from the bundle (scripts/bundle-cli.mjs): oclif's `execute`, from the same
// bundled @oclif/core the command modules use, so the process loads and configures oclif once.
export {execute} from '@oclif/core'

// On Node 20 every AWS SDK client warns, in eight lines on stderr, that SDK releases from 2027 need
// Node 22. The SDK version is ours to pin (package-lock.json), not the user's, so the CLI turns the
// warning off with the SDK's documented switch unless the user set it. `layers run` passes functions
// an allowlisted environment, so they do not inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
