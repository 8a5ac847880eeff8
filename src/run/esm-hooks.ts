// Owns the module resolution hook `layers run` loads into a nodejs function's process (through
// esm-register.ts): ES module imports of bare specifiers that Node cannot resolve from the importing
// file are retried from each node_modules directory on NODE_PATH, in order. Lambda's nodejs18.x+
// runtimes resolve ES module imports from layers the same way (NODE_PATH alone applies to require()).
import path from 'node:path'
import {pathToFileURL} from 'node:url'

interface ResolveContext {
  conditions: string[]
  importAttributes?: Record<string, string>
  parentURL?: string
}

type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{url: string; format?: string | null; shortCircuit?: boolean}>

const searchDirs = (process.env.NODE_PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir !== '' && path.basename(dir) === 'node_modules')

function isBare(specifier: string): boolean {
  return !/^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(specifier)
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{url: string; format?: string | null; shortCircuit?: boolean}> {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw error
    for (const dir of searchDirs) {
      try {
        // A parent inside the node_modules directory: Node then searches that directory (and its parents).
        return await nextResolve(specifier, {...context, parentURL: pathToFileURL(path.join(dir, 'layers-run.mjs')).href})
      } catch (retry) {
        if ((retry as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw retry
      }
    }
    throw error
  }
}
