// The ES module resolution hook of the `node` runtime template of `layers`, registered by
// lambda-runtime.mjs (so under `layers run` too): a bare specifier Node cannot resolve from the
// importing file is retried from each node_modules directory on NODE_PATH, in order. Lambda's
// nodejs18.x+ runtimes resolve ES module imports from layers the same way; NODE_PATH by itself
// applies to require() only.
import path from 'node:path'
import process from 'node:process'
import {pathToFileURL} from 'node:url'

const searchDirs = (process.env.NODE_PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir !== '' && path.basename(dir) === 'node_modules')

function isBare(specifier) {
  return !/^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(specifier)
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw error
    for (const dir of searchDirs) {
      try {
        // A parent inside the node_modules directory: Node then searches that directory (and its parents).
        return await nextResolve(specifier, {...context, parentURL: pathToFileURL(path.join(dir, 'layers-esm.mjs')).href})
      } catch (retry) {
        if (retry?.code !== 'ERR_MODULE_NOT_FOUND') throw retry
      }
    }
    throw error
  }
}
