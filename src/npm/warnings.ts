// Owns the warnings about locked npm packages that both `layers lock` and `layers build` report, so the
// two commands word them alike.
import type {Problem} from '../errors/index.js'

/** Packages (`name@version`) of `subject` (a layer, or a layer and artifact) that declare install scripts. */
export function installScriptsNotRun(subject: string, packages: readonly string[]): Problem {
  const one = packages.length === 1
  return {
    severity: 'warning',
    code: 'ERR_LAYERS_INSTALL_SCRIPT_NOT_RUN',
    message: `Layer ${subject}: ${packages.join(', ')} declare${one ? 's' : ''} install scripts, which layers never runs; ${one ? 'it' : 'they'} may not work on Lambda.`,
    hint: `Check that ${one ? 'it works' : 'each works'} without its install script (prebuilt binaries for linux, optional native code), or build it for Lambda yourself and ship it in a dir layer.`,
  }
}
