// Owns registering esm-hooks.ts in a nodejs function's process (`node --import <this file>`), so its
// ES module imports find packages in the layers as on Lambda.
import {register} from 'node:module'

register('./esm-hooks.js', import.meta.url)
