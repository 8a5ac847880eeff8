import {Args} from '@oclif/core'
import {EXIT_CODES_HELP, LayersCommand} from '../src/cli/base-command.js'
import type {Problem} from '../src/errors/index.js'
import {parseFindQuery, type FindReport} from '../src/find/plan.js'
import {renderFind} from '../src/find/render.js'
import {findInProject} from '../src/find/run.js'

export default class Find extends LayersCommand {
  static override summary = 'Find which layers, published versions and functions carry a package version.'

  static override description = `Searches the lock's trees and the trees of every content built before (kept in the state database, so versions published from an older lock still answer) for the package, in the semver range when one is given (prereleases included). For each artifact content that holds it: the path in node_modules and the chain of dependents that pulls it in, and the layer versions it is published as. Then, from the latest saved \`layers audit\`, the functions in every account and region whose $LATEST or alias versions run those layer versions. Python projects match by normalized name, and by range where the version is semver.

Reads lockfile.json and .layers/state.db only: no network. Changes nothing.

${EXIT_CODES_HELP}`

  static override examples = [
    {description: 'Every copy of ms older than 2.1.3', command: '<%= config.bin %> <%= command.id %> "ms@<2.1.3"'},
    {description: 'A scoped package in any version, as JSON', command: '<%= config.bin %> <%= command.id %> @aws-sdk/client-s3 --json'},
  ]

  static override args = {
    package: Args.string({description: 'PACKAGE or PACKAGE@RANGE (semver), e.g. ms@<2.1.3.', required: true}),
  }

  async run(): Promise<FindReport & {warnings: Problem[]}> {
    const {args, flags} = await this.parse(Find)
    const report = await findInProject({manifestPath: this.manifestPath(flags), query: parseFindQuery(args.package)})
    this.reporter.done()
    this.out(() => renderFind(report))
    return {...report, warnings: this.reporter.warnings}
  }
}
