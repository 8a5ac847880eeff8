#!/usr/bin/env node
// The `layers` binary: hands argv to oclif, which loads the compiled commands from dist/commands.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
