// Owns the I/O around the HTML report: reads the template shipped in the package
// (templates/report/report.html, its inline CSS and JS) and, for the audit page, the saved histories
// of the layers it shows; html.ts renders from that plain data.
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {AuditReport} from '../audit/types.js'
import {savedLayerHistories} from '../history/command.js'
import type {LayerHistory} from '../history/store.js'
import {LAMBDA_RUNTIMES} from '../manifest/runtimes.js'
import {toolRoot} from '../project/paths.js'
import {renderAuditHtml, renderHistoryHtml} from './html.js'

/** Saved audits shown in a layer's versions over time. */
export const HTML_HISTORY_RUNS = 20

export async function reportTemplate(): Promise<string> {
  return readFile(path.join(toolRoot(), 'templates', 'report', 'report.html'), 'utf8')
}

/** `layers audit --format html`: the report, with the versions over time of its manifest layers. */
export async function auditHtml(report: AuditReport, manifestPath: string): Promise<string> {
  const layers = [...new Set(report.usage.flatMap((usage) => (usage.name === undefined ? [] : [usage.name])))].sort()
  const histories = savedLayerHistories(manifestPath, layers, HTML_HISTORY_RUNS)
  return renderAuditHtml({report, runtimes: LAMBDA_RUNTIMES, histories}, await reportTemplate())
}

/** `layers history LAYER --format html`. */
export async function historyHtml(history: LayerHistory, accountNames: ReadonlyMap<string, string>): Promise<string> {
  return renderHistoryHtml(history, accountNames, await reportTemplate())
}
