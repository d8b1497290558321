/**
 * One compacting full GC once berthd is idle after its start (BENCHMARKS.md, "Memory").
 *
 * Start-up leaves ~2 MiB of garbage spread over V8's old-space pages (commander's parse, the config merge, fastify's
 * route registration, the restore). No GC runs at idle, so those pages stay resident; a plain full GC frees the
 * objects but not the pages, which are only partly empty. Compacting moves the survivors together and gives the
 * emptied pages back: ~1 MiB of RSS, for one ~10 ms pause that happens once, after "berthd ready".
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Compacts V8's heap now. The flags are restored after, so later GCs are V8's usual ones. */
export function compactHeap(): void {
  // `gc` exists only in contexts created while --expose-gc is set: a throwaway context made for this call.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** After `delayMs` (the start's last I/O settled), compact once; the timer does not keep the process alive. */
export function compactHeapWhenIdle(delayMs = 100): void {
  setTimeout(compactHeap, delayMs).unref();
}
