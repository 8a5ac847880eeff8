#!/usr/bin/env node
// The `layers` binary: hands argv to oclif, which loads the bundled commands from dist/cli/commands
// (scripts/bundle-cli.mjs).
import {execute} from '../dist/cli/main.js'

await execute({dir: import.meta.url})
