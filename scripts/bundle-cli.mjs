// Bundles the compiled commands (dist/commands, from tsc) with @oclif/core and the small packages
// they load at start-up into dist/cli/: one module per command plus shared chunks (esbuild code
// splitting), so a command loads only what it uses. Node then reads a handful of files instead of
// resolving several hundred modules, most of a short command's time: a cache-hit `layers build`
// went from 0.40 s to about 0.31 s (bench/build). bin/run.js and oclif (package.json
// `oclif.commands`, `oclif.helpClass`, `oclif.hooks`) use dist/cli; dist/src stays for the benchmarks that import
// the library directly.
import {copyFileSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const out = path.join(dist, 'cli')

const commands = readdirSync(path.join(dist, 'commands')).filter((file) => file.endsWith('.js'))
rmSync(out, {recursive: true, force: true})
const {metafile} = await build({
  entryPoints: {
    main: path.join(dist, 'src', 'cli', 'main.js'),
    help: path.join(dist, 'src', 'cli', 'help.js'),
    'command-not-found': path.join(dist, 'src', 'cli', 'command-not-found.js'),
    ...Object.fromEntries(commands.map((file) => [`commands/${file.slice(0, -3)}`, path.join(dist, 'commands', file)])),
  },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
  // Left as packages: a native addon; oclif's optional TypeScript support for linked plugins; and the
  // large packages only some commands load, lazily (npm registry client, AWS SDK clients, ajv, the
  // CycloneDX library whose optional validator and XML plugins are not installed; undici, for the Python
  // index reads through a proxy).
  external: ['better-sqlite3', 'typescript', 'ts-node', 'ajv', 'pacote', '@aws-sdk/*', '@smithy/*', '@cyclonedx/*', 'undici'],
  // Bundled CommonJS packages call require() for Node built-ins, and write-file-atomic seeds its temp
  // names with __filename; ES modules have neither. __dirname stays undefined on purpose: the bundled
  // packages use it only inside try/catch to find their own package.json (oclif's engines check),
  // which is not beside the bundle, and a quick ReferenceError beats a failing module lookup.
  banner: {
    js: [
      "import {createRequire as __layersCreateRequire} from 'node:module';",
      "import {fileURLToPath as __layersFileURLToPath} from 'node:url';",
      'const require = __layersCreateRequire(import.meta.url);',
      'const __filename = __layersFileURLToPath(import.meta.url);',
    ].join(' '),
  },
})

// schema-check loads the precompiled manifest validator (scripts/compile-schema.mjs) from beside itself,
// that is from beside whichever bundle file esbuild put it in.
const schemaCheck = path.relative(root, path.join(dist, 'src', 'manifest', 'schema-check.js'))
const holders = Object.entries(metafile.outputs).filter(([file, output]) => file.endsWith('.js') && schemaCheck in output.inputs)
if (holders.length !== 1) throw new Error(`expected one bundle file holding ${schemaCheck}, found ${holders.length}`)
copyFileSync(path.join(dist, 'src', 'manifest', 'layers-schema.validate.cjs'), path.join(root, path.dirname(holders[0][0]), 'layers-schema.validate.cjs'))
