// Owns what attach, deploy and rollback share about their writes to function targets: running one per
// target, at most `concurrency` at once, with a progress event as each finishes, and the counts of the
// outcomes their summaries report (each command adds the count of its own kind of change).
import pLimit from 'p-limit'
import type {EmitEvent} from '../events.js'

export interface LabelledTarget {
  functionName: string
  accountName: string
  region: string
}

export async function runPerTarget<T extends LabelledTarget, O extends {status: string}>(
  targets: readonly T[],
  options: {concurrency: number; phase: string; emit: EmitEvent},
  work: (target: T) => Promise<O>,
): Promise<O[]> {
  const limit = pLimit(Math.max(1, options.concurrency))
  let done = 0
  return Promise.all(
    targets.map((target) =>
      limit(async () => {
        const outcome = await work(target)
        options.emit({type: 'progress', phase: options.phase, message: `${target.functionName} ${target.accountName}/${target.region}: ${outcome.status}`, current: ++done, total: targets.length})
        return outcome
      }),
    ),
  )
}

export interface OutcomeCounts {
  unchanged: number
  refused: number
  conflicts: number
  failed: number
  notStarted?: number
}

/** `count(...statuses)`, and the counts every summary has (notStarted only for an interrupted run). */
export function outcomeCounts<S extends string>(outcomes: ReadonlyArray<{status: S}>, interrupted: boolean, notStarted: readonly S[]): {count: (...statuses: S[]) => number; counts: OutcomeCounts} {
  const count = (...statuses: S[]): number => outcomes.filter((outcome) => statuses.includes(outcome.status)).length
  return {
    count,
    counts: {
      unchanged: count('unchanged' as S),
      refused: count('refused' as S),
      conflicts: count('conflict' as S),
      failed: count('failed' as S),
      ...(interrupted ? {notStarted: count(...notStarted)} : {}),
    },
  }
}
