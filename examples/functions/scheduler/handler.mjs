// ESM handler (.mjs) on nodejs24.x: computes the next run with ms and retries a flaky step with
// p-retry, both from the `common` layer.
import ms from 'ms'
import pRetry from 'p-retry'

export const run = async (event = {}) => {
  const every = event.every ?? '15m'
  const attempts = []
  const result = await pRetry(
    async (attempt) => {
      attempts.push(attempt)
      if (attempt < (event.failFirst ?? 0) + 1) throw new Error(`attempt ${attempt} failed`)
      return 'scheduled'
    },
    {retries: 3, minTimeout: 1, factor: 1},
  )
  return {result, attempts: attempts.length, nextRunInMs: ms(every)}
}
