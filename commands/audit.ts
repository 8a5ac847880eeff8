import {Flags} from '@oclif/core'
import {AWS_CONVENTIONS_HELP, AWS_TIME_BOUNDS_HELP} from '../src/cli/aws-flags.js'
import {EXIT_CODES_HELP, LayersAwsCommand, written} from '../src/cli/base-command.js'
import {FindingsError, OperationalError, toLayersError, UserInputError} from '../src/errors/index.js'
import {writeError} from '../src/cli/render.js'
import {writeOutput} from '../src/cli/output.js'
import {auditCommand, auditJsonCommand, auditStreamCommand, type AuditCommandOptions} from '../src/audit/command.js'
import {countAtThreshold} from '../src/audit/findings.js'
import {jsonlOfFunction, jsonlOfTarget, jsonlSummary, renderAudit, type AuditFormat} from '../src/audit/render.js'
import type {AuditStreamResult} from '../src/audit/run.js'
import type {AuditReport, TargetReport} from '../src/audit/types.js'
import {auditHtml} from '../src/report/template.js'
import {advisoryGate, SEVERITIES, type AdvisorySeverity} from '../src/advisories/plan.js'
import {renderAdvisories} from '../src/advisories/render.js'

export default class Audit extends LayersAwsCommand {
  static override summary = 'Report which function, in which account and region, runs which layer version, and what is wrong.'

  static override description = `Scans every function (all pages) of each target concurrently with adaptive retries: the manifest's accounts and regions, narrowed with --account/--region, every enabled region with --all-regions, or every active account of an AWS Organization with --org --role-name NAME. Findings: drift (layers differ from what \`layers attach\` sets), drift-iac (that drift on a function infrastructure as code owns: tag aws:cloudformation:stack-name, whose stack the finding names, or one of settings.ownershipTags; the fix is a redeploy; tags are read, with ListTags, only for managed functions that are behind or drift), behind (older than the locked version), missing (the layer version no longer exists), unmanaged (a layer neither layers.yaml nor the lock knows), limits (5 layers; code plus layers above 80% of 262,144,000 bytes unzipped, estimated as zipped x 3 where the exact size is unknown), runtime (deprecated or deprecated within 180 days), arch (the function's architecture is not declared by a layer version), layer-runtime (the function's runtime is not declared by a layer version that declares runtimes). A target that cannot be scanned is reported as failed, one whose aliases could not all be read as incomplete. Each run is saved in .layers/state.db; --diff compares with the previous run. The --json output follows schema/audit.schema.json. --format jsonl streams one JSON object per line: a function line and its finding lines as soon as the function is judged, a target line (its status and function count) once all its functions are, a summary line last (schema/audit-line.schema.json); nothing of a judged function is kept, so memory stays flat for fleets of any size. --format html writes one self-contained page to share (no network, no external assets): the layers x account-regions matrix coloured by version and drift, the findings grouped with each fix said once, the runtime deprecation timeline and the saved versions over time of each manifest layer; --output FILE writes any format to a file instead of stdout.

--advisories also runs \`layers advisories\` for the lock (npm's bulk advisory endpoint on each package's registry, asked while the targets are scanned) and traces each advisory to the functions of this audit; the report (table or JSON, field \`advisories\`) adds them, with the lock's deprecated versions. --fail-on-advisory SEVERITY exits 1 when one reaches it (ERR_LAYERS_ADVISORY_FINDINGS). A registry without the endpoint fails the command (ERR_LAYERS_ADVISORIES_UNSUPPORTED) after the audit is saved.

${AWS_CONVENTIONS_HELP}

${AWS_TIME_BOUNDS_HELP}

${EXIT_CODES_HELP} Exit 1 also when a target could not be scanned (the report lists it as failed) or the aliases of some of its functions could not be read (incomplete), or when findings reach --fail-on; under --json the report is still printed on stdout and the error on stderr.`

  static override examples = [
    {description: 'Audit every account and region of the manifest', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One account in two regions, as CSV', command: '<%= config.bin %> <%= command.id %> --account prod --region eu-west-1 --region us-east-1 --format csv'},
    {description: 'Every enabled region of every account in the organization', command: '<%= config.bin %> <%= command.id %> --org --role-name OrganizationAccountAccessRole --all-regions'},
    {description: 'CI gate: fail on any error finding, and show what changed since the last run', command: '<%= config.bin %> <%= command.id %> --fail-on error --diff'},
    {description: 'A report page to share with the platform team', command: '<%= config.bin %> <%= command.id %> --format html --output audit.html'},
    {description: 'Stream the findings of a large fleet, one JSON object per line', command: '<%= config.bin %> <%= command.id %> --format jsonl'},
    {description: 'CI gate: also fail on high or critical advisories of the locked packages, traced to the functions just audited', command: '<%= config.bin %> <%= command.id %> --advisories --fail-on-advisory high'},
  ]

  static override flags = {
    account: Flags.string({char: 'a', description: 'Manifest account name or 12-digit account id (repeatable).', multiple: true}),
    region: Flags.string({char: 'r', description: 'Region to scan (repeatable); default: the account\'s regions.', multiple: true}),
    'all-regions': Flags.boolean({description: 'Scan every region enabled for each account (account:ListRegions).', default: false}),
    org: Flags.boolean({description: 'Audit every active account of the AWS Organization (organizations:ListAccounts).', default: false}),
    'role-name': Flags.string({description: 'With --org: the IAM role assumed in each member account.'}),
    format: Flags.string({char: 'f', description: 'Output format.', options: ['table', 'json', 'jsonl', 'csv', 'markdown', 'html'], default: 'table'}),
    output: Flags.string({char: 'o', description: 'Write the --format output to FILE (atomically) instead of stdout.', exclusive: ['json']}),
    'fail-on': Flags.string({description: 'Exit 1 when a finding of this severity (or worse) is found.', options: ['error', 'warning']}),
    diff: Flags.boolean({description: 'Compare the findings with the previous saved audit.', default: false}),
    save: Flags.boolean({description: 'Save this run in the history (--no-save: do not).', default: true, allowNo: true}),
    'remote-state': Flags.boolean({description: 'Write the saved run\'s summary per layer and target to the shared history in the state bucket (--no-remote-state: local only).', default: true, allowNo: true}),
    advisories: Flags.boolean({description: 'Also report the security advisories and deprecated versions of the locked npm packages, traced to the audited functions (as `layers advisories`).', default: false}),
    'fail-on-advisory': Flags.option({options: SEVERITIES.filter((severity) => severity !== 'info'), description: 'With --advisories: exit 1 when an advisory of this severity or worse is found.', dependsOn: ['advisories']})(),
    concurrency: Flags.integer({description: 'Targets scanned at once (each account and region stays within its request budget, --max-rps).', default: 256, min: 1, max: 256}),
  }

  /** The --json report is already on stdout (written as the audit went): an error after it goes to stderr only. */
  private reportWritten = false

  async run(): Promise<AuditReport | AuditStreamResult | undefined> {
    const {flags} = await this.parse(Audit)
    const options: AuditCommandOptions = {
      manifestPath: this.manifestPath(flags),
      flags: {accounts: flags.account, regions: flags.region, allRegions: flags['all-regions'], org: flags.org, roleName: flags['role-name']},
      concurrency: flags.concurrency,
      save: flags.save,
      diff: flags.diff,
      remoteState: flags['remote-state'],
      advisories: flags.advisories,
      emit: this.reporter.emit,
      ...this.awsConnection(flags),
    }
    const failOn = flags['fail-on'] as 'error' | 'warning' | undefined
    if (flags.advisories && !this.jsonEnabled() && flags.format !== 'table' && flags.format !== 'json') {
      throw new UserInputError('ERR_LAYERS_USAGE', `--advisories cannot be combined with --format ${flags.format}: the advisories are part of the table and JSON reports only${flags.format === 'jsonl' ? ' (a stream has no place for findings that span every target)' : ''}.`, {
        hint: `Use --format table or --json with --advisories, or run \`layers advisories\` after this audit: it traces the advisories to the functions of the latest saved audit.`,
      })
    }
    if (flags.format === 'jsonl' && !this.jsonEnabled()) {
      if (flags.diff) {
        throw new UserInputError('ERR_LAYERS_USAGE', '--diff cannot be streamed: --format jsonl writes each function as it is judged, before the run can be compared.', {
          hint: 'Use --format json (or --json) with --diff, or drop --diff.',
        })
      }
      const result = await writeOutput(flags.output, async (write) => {
        const done = await auditStreamCommand(options, {function: (part) => write(jsonlOfFunction(part)), target: (part) => write(jsonlOfTarget(part))})
        await write(jsonlSummary(done))
        return done
      })
      this.reporter.done()
      this.verdict(result.summary, result.notScannedCompletely, failOn, undefined)
      return result
    }
    if ((this.jsonEnabled() || flags.format === 'json') && !flags.diff && !flags.advisories) {
      // Written as the audit goes (src/audit/report-spool.ts): a big fleet's report is never held whole.
      const result = await writeOutput(flags.output, (write) => auditJsonCommand(options, write))
      this.reporter.done()
      this.reportWritten = true
      this.verdict(result.summary, result.notScannedCompletely, failOn, undefined)
      return undefined
    }
    const report = await auditCommand(options)
    this.reporter.done()
    if (!this.jsonEnabled()) {
      const text = flags.format === 'html' ? await auditHtml(report, options.manifestPath) : renderAudit(report, flags.format as AuditFormat)
      // The JSON formats carry them as the field `advisories`; the table gets their section below it.
      const advisories = report.advisories && flags.format === 'table' ? `${text.endsWith('\n') ? '' : '\n'}\n${renderAdvisories(report.advisories, {inAudit: true})}\n` : ''
      await writeOutput(flags.output, (write) => write(text + advisories))
    }
    this.verdict(report.summary, report.targets.filter((target) => target.status !== 'ok'), failOn, report)
    // Under --json the report goes with the error, as for --fail-on.
    const gate = report.advisories ? advisoryGate(report.advisories, flags['fail-on-advisory'] as AdvisorySeverity | undefined, '--fail-on-advisory', {report}) : undefined
    if (gate) throw gate
    return report
  }

  /** Exit 1 when findings reach --fail-on, or when a target could not be scanned completely (failed or incomplete; the report, if any, goes with the error). */
  private verdict(summary: AuditReport['summary'], notScannedCompletely: TargetReport[], failOn: 'error' | 'warning' | undefined, report: AuditReport | undefined): void {
    const count = countAtThreshold(summary.findings, failOn)
    if (count > 0) {
      throw new FindingsError('ERR_LAYERS_AUDIT_FINDINGS', `${count} finding(s) at or above --fail-on ${failOn}.`, {
        hint: 'Fix them as each finding\'s fix says, or raise the threshold.',
        details: report ? {report} : {},
      })
    }
    const failed = notScannedCompletely.map((target) => `${target.accountId}/${target.region} (${target.status === 'incomplete' ? 'incomplete, ' : ''}${target.error?.code})`)
    if (failed.length > 0) {
      throw new OperationalError('ERR_LAYERS_AUDIT_TARGETS_FAILED', `${failed.length} target(s) could not be scanned completely: ${failed.join(', ')}.`, {
        hint: 'Check the credentials and permissions (lambda:ListFunctions, lambda:GetLayerVersion, lambda:ListAliases, lambda:GetFunctionConfiguration) for those accounts and regions; the other targets were audited.',
        details: report ? {report} : {},
      })
    }
  }

  /**
   * Under --json a run that reached --fail-on or had failed targets still prints its report (the
   * documented schema) on stdout; the error goes to stderr and sets the exit code.
   */
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const error = toLayersError(err)
    const report = error.details.report
    const verdict = error instanceof FindingsError || error.code === 'ERR_LAYERS_AUDIT_TARGETS_FAILED'
    if (this.jsonEnabled() && verdict && (report || this.reportWritten)) {
      if (report) await written(process.stdout, JSON.stringify(report, null, 2) + '\n')
      await writeError(error, {json: false, debug: this.debugEnabled()})
      return this.exit(error.exitCode)
    }
    if (report) delete error.details.report
    return super.catch(err)
  }
}
