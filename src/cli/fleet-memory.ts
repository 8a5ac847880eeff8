// Owns the garbage collector's setting for commands that read a whole fleet (audit): they allocate
// fast and keep little (each function is judged and dropped), and V8's default lets the old generation
// grow to about four times what is live before it collects, so a 200 account-region audit peaked at
// about 360 MB of which under 60 MB was live. Growing the heap by a fixed 30% over what each full
// collection leaves keeps the peak near the live size (bench/audit/scale.mjs prints the peak RSS).
import v8 from 'node:v8'

/** How far the old generation may grow past what the last full collection left, in percent. */
export const FLEET_HEAP_GROWING_PERCENT = 30

/** Applies to the rest of the process (V8 reads it at every full collection). */
export function useFleetHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${FLEET_HEAP_GROWING_PERCENT}`)
}
