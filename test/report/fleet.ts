// A synthetic audit report of a fleet (plain data, as `layers audit --json` gives it) for the HTML
// report's tests: `accounts` x `regions` targets, each with a few functions on two manifest layers and
// an AWS-provided one, versions behind, deleted and drifting here and there, one target that failed,
// and hostile text (markup in names, messages and errors) wherever the report shows text.
import {sortFindings} from '../../src/audit/findings.js'
import type {AuditReport, Finding, FunctionReport, LayerUsage, TargetReport} from '../../src/audit/types.js'

export const HOSTILE = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`

const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1', 'eu-central-1']

export function fleetReport(accounts: number, regions = 2): AuditReport {
  const targets: TargetReport[] = []
  const functions: FunctionReport[] = []
  const findings: Finding[] = []
  const usage = new Map<string, LayerUsage>()
  const use = (arn: string, name: string | undefined, accountId: string, region: string) => {
    const [layerArn, version] = [arn.slice(0, arn.lastIndexOf(':')), Number(arn.slice(arn.lastIndexOf(':') + 1))]
    const row = usage.get(arn) ?? {layerArn, ...(name ? {name} : {}), version, arn, functions: 0, targets: []}
    row.functions++
    const target = row.targets.find((entry) => entry.accountId === accountId && entry.region === region)
    if (target) target.functions++
    else row.targets.push({accountId, region, functions: 1})
    usage.set(arn, row)
  }
  for (let a = 0; a < accounts; a++) {
    const accountId = String(100000000000 + a)
    const accountName = a === 1 ? `team-${HOSTILE}` : `team-${String(a).padStart(3, '0')}`
    for (const region of REGIONS.slice(0, regions)) {
      if (a === 2 && region === REGIONS[0]) {
        targets.push({accountId, accountName, region, status: 'failed', functions: 0, error: {code: 'AccessDeniedException', message: `User is not authorized ${HOSTILE}`}})
        continue
      }
      const common = (version: number) => `arn:aws:lambda:${region}:999999999999:layer:common:${version}`
      const config = `arn:aws:lambda:${region}:999999999999:layer:config:2`
      const insights = `arn:aws:lambda:${region}:580247275435:layer:LambdaInsightsExtension:38`
      // Every fifth account runs common 3 where the lock has 4 (behind); account 3 a deleted version.
      const commonVersion = a === 3 ? 1 : a % 5 === 0 ? 3 : 4
      const names = ['api', 'worker', a === 1 ? `cron${HOSTILE}` : 'cron']
      for (const [index, name] of names.entries()) {
        const layers = index === 2 ? [common(commonVersion), insights] : [common(commonVersion), config]
        const runtime = index === 1 ? 'nodejs20.x' : index === 2 && a % 7 === 0 ? 'python3.9' : 'nodejs22.x'
        functions.push({accountId, region, name, runtime, architecture: 'x86_64', codeSize: 1000 + index, layers, managed: index < 2})
        for (const arn of layers) use(arn, arn.includes(':580247275435:') ? undefined : arn.includes(':common:') ? 'common' : 'config', accountId, region)
        const at = {accountId, region, function: name}
        if (commonVersion === 3) findings.push({code: 'behind', severity: 'warning', ...at, layer: common(3), message: 'uses version 3 of layer common; the lock has version 4', fix: `Run \`layers attach ${name} --account ${accountName} --region ${region}\`.`})
        if (commonVersion === 1) findings.push({code: 'missing', severity: 'error', ...at, layer: common(1), message: `uses ${common(1)}, which no longer exists`, fix: 'Update the function to an existing version of the layer, or remove the layer.'})
        if (index === 2) findings.push({code: 'unmanaged', severity: 'info', ...at, layer: insights, message: `uses ${insights}, a layer neither layers.yaml nor lockfile.json knows ${a === 1 ? HOSTILE : ''}`, fix: 'Declare it in layers.yaml as an `arn` layer to track it, or remove it from the function.'})
        if (index === 0 && a % 11 === 4) findings.push({code: 'drift', severity: 'error', ...at, message: 'layers differ from what `layers attach` would set: order differs', fix: `Run \`layers attach ${name} --account ${accountName} --region ${region}\`.`})
      }
      targets.push({accountId, accountName, region, status: 'ok', functions: names.length})
    }
  }
  const sorted = sortFindings(findings)
  const count = (severity: Finding['severity']) => sorted.filter((finding) => finding.severity === severity).length
  return {
    schemaVersion: 2,
    runId: 7,
    startedAt: '2026-03-01T10:00:00.000Z',
    finishedAt: '2026-03-01T10:02:30.000Z',
    summary: {targets: targets.length, failedTargets: targets.filter((target) => target.status === 'failed').length, functions: functions.length, findings: {error: count('error'), warning: count('warning'), info: count('info')}},
    targets,
    findings: sorted,
    usage: [...usage.values()],
    functions,
  }
}
