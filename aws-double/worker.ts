// Worker-thread entry of the local AWS test server: starts the HTTP server with the options the test
// passed, reports calls and reads faults through shared memory (channel.ts), and answers `close`.
import {parentPort, workerData} from 'node:worker_threads'
import {callWriter, faultReader, type Channels} from './channel.js'
import type {AwsServerOptions} from './index.js'
import {serveAws} from './server.js'

const {options, channels} = workerData as {options: AwsServerOptions; channels: Channels}
const port = parentPort!

try {
  const server = await serveAws(options, {record: callWriter(channels.calls), pollFaults: faultReader(channels.faults)})
  port.on('message', (message: unknown) => {
    if (message === 'close') void server.close().then(() => port.postMessage({closed: true}))
  })
  port.postMessage({endpoint: server.endpoint})
} catch (error) {
  port.postMessage({error: error instanceof Error ? (error.stack ?? error.message) : String(error)})
}
