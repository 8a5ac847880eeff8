// Owns the event vocabulary library code uses instead of printing: progress for long work and
// warnings. One reporter (src/cli/reporter.ts) turns events into text; tests collect them.
import type {Problem} from './errors/index.js'

export type LayersEvent =
  | {type: 'progress'; phase: string; message: string; current?: number; total?: number}
  | {type: 'warning'; warning: Problem}
  | {type: 'info'; message: string}

export type EmitEvent = (event: LayersEvent) => void

/** An emitter that drops everything, for callers that do not report. */
export const silent: EmitEvent = () => {}

/** Collects events, for tests and for commands that return warnings in their --json result. */
export function collectEvents(): {emit: EmitEvent; events: LayersEvent[]; warnings: () => Problem[]} {
  const events: LayersEvent[] = []
  return {
    emit: (event) => events.push(event),
    events,
    warnings: () => events.flatMap((event) => (event.type === 'warning' ? [event.warning] : [])),
  }
}
