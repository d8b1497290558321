/**
 * V8's collector, asked for by berthd's own memory management (the idle compaction, the scavenges of bulk
 * transfers), without a `gc` global in the daemon's context: `gc()` is taken from a context made for it with
 * `--expose-gc` (~150 KiB, made on first use; the flag is turned off again at once).
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc()`: a full collection, or a scavenge of the young generation with `{ type: 'minor' }`. */
export type GcFunction = (options?: { readonly type: 'major' | 'minor' }) => void;

let gc: GcFunction | undefined;

/** V8's `gc()`, made once per process (a node started with `--expose-gc` has it already, and keeps its flag). */
export function v8Gc(): GcFunction {
  if (gc) return gc;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') {
    gc = own as GcFunction;
    return gc;
  }
  setFlagsFromString('--expose-gc');
  try {
    gc = runInNewContext('gc') as GcFunction;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gc;
}
