// Worker-thread entry of the local AWS test server: starts the HTTP server with the options the test
// passed, reports calls and reads faults through shared memory (channel.ts), applies batches of direct
// calls (each batch in order) and answers `close`.
import {parentPort, workerData} from 'node:worker_threads'
import {callWriter, faultReader, type Channels} from './channel.js'
import type {AwsServerOptions, DirectCall, DirectReply} from './index.js'
import {serveAws} from './server.js'

const {options, channels} = workerData as {options: AwsServerOptions; channels: Channels}
const port = parentPort!

try {
  const server = await serveAws(options, {record: callWriter(channels.calls), pollFaults: faultReader(channels.faults)})
  port.on('message', (message: unknown) => {
    if (message === 'close') void server.close().then(() => port.postMessage({closed: true}))
    const batch = message as {direct?: number; calls?: DirectCall[]}
    if (typeof batch.direct !== 'number' || !Array.isArray(batch.calls)) return
    void (async () => {
      const replies: DirectReply[] = []
      try {
        for (const call of batch.calls!) replies.push(await server.direct(call))
        port.postMessage({direct: batch.direct, replies})
      } catch (error) {
        port.postMessage({direct: batch.direct, failed: error instanceof Error ? (error.stack ?? error.message) : String(error)})
      }
    })()
  })
  port.postMessage({endpoint: server.endpoint})
} catch (error) {
  port.postMessage({error: error instanceof Error ? (error.stack ?? error.message) : String(error)})
}
