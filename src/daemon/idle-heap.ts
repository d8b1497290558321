/**
 * Gives back the memory a burst of work leaves in V8's heap once berthd goes idle. V8 sizes the old generation for
 * the work: after a burst of API requests and enable/disable cycles it holds either garbage no collection has
 * reached yet (an idle daemon allocates nothing, so nothing triggers one) or, after a collection, 10–14 MiB of live
 * objects spread over 30–40 MiB of pages it keeps until it compacts them. Its own memory reducer compacts only 8 s
 * after the last full collection, later again if the loop does not look idle then, and only once the committed old
 * generation grew by 10 % and 10 MiB since its last run; so after the same 10,000-cycle soak the RSS berthd kept
 * idle was 72–112 MiB, depending on when the burst's last collection happened (BENCHMARKS.md, "Soak").
 *
 * Here berthd samples its event loop's utilisation every 2 s; at the first idle interval (< 1 % busy) after one of
 * work (≥ 1 %; the start counts as work), if the committed heap grew by at least 4 MiB since the last compaction (or
 * since the start), it runs one compacting full collection, a second only if that left the heap unpacked. That
 * pauses the main thread once per burst (one atomic full collection of the ~14 MiB heap: 18–72 ms on the loaded
 * 2-vCPU machine of BENCHMARKS.md; a request arriving meanwhile waits for it), never while requests keep the loop
 * busy; the idle daemon wakes every 2 s for the sample. At each such interval, compaction or not, and once right
 * after the start, it has malloc give back the free pages inside its arenas (host/malloc-trim.ts: ~1.5 MiB after
 * the start, ~4 MiB with 100 plugins enabled; 0.25–1.5 ms).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { mallocTrim, v8Gc } from '../host/index.ts';

/** How often the event loop's utilisation is sampled. */
const CHECK_MS = 2000;
/** An interval that kept the loop busier than this (20 ms of 2 s) counts as work; a quieter one as idle. */
const BUSY_UTILIZATION = 0.01;
/**
 * Less growth of the committed heap since the last compaction than this is not worth a pause to give back; and a
 * heap committing less than this beyond what its objects use is packed.
 */
const SLACK_BYTES = 4 * 1024 * 1024;
/** A collection that gave back less than this ends the series (V8's memory reducer stops on the same rule). */
const MIN_GAIN_BYTES = 1024 * 1024;
const MAX_GCS = 3;

/** What the sampler remembers between intervals. */
export interface IdleHeapState {
  /** An interval of work was seen since the last idle one. */
  worked: boolean;
  /** The committed heap after the last compaction (at the start: the heap the start left). */
  compactedBytes: number;
}

/** The sampler's state when it starts: the start was work, and left the heap it did. */
export function idleStartState(committedBytes: number): IdleHeapState {
  return { worked: true, compactedBytes: committedBytes };
}

/**
 * What an interval of `utilization` calls for, given the heap's committed bytes: nothing (busy, or idle already
 * seen), or, at the first idle interval after work, giving memory back, with a compaction if the heap grew by
 * {@link SLACK_BYTES} since the last one.
 */
export function idleAction(
  state: IdleHeapState,
  utilization: number,
  committedBytes: number,
): { readonly compact: boolean } | undefined {
  if (utilization > BUSY_UTILIZATION) {
    state.worked = true;
    return undefined;
  }
  if (!state.worked) return undefined;
  state.worked = false;
  return { compact: committedBytes >= state.compactedBytes + SLACK_BYTES };
}

/** The heap's committed bytes and the bytes its objects use (right after a full collection: the live ones). */
export interface HeapSize {
  readonly committed: number;
  readonly used: number;
}

/**
 * Full collections until the heap is packed (less than {@link SLACK_BYTES} committed beyond what its objects use)
 * or one gives back less than {@link MIN_GAIN_BYTES}, at most three: one usually packs it; a heap still full of
 * garbage can need a second for the pages the first could not empty. Returns the committed bytes after them.
 */
export function compact(gc: () => void, size: () => HeapSize): number {
  let before = size().committed;
  for (let i = 0; i < MAX_GCS; i++) {
    gc();
    const after = size();
    if (after.committed - after.used < SLACK_BYTES || before - after.committed < MIN_GAIN_BYTES)
      return after.committed;
    before = after.committed;
  }
  return before;
}

/**
 * V8's full collection (host/v8-gc.ts), run with `--compact-on-every-full-gc` for its duration: a plain full
 * collection moves objects only off the pages the previous one found sparse, and only up to a few MiB, so after a
 * burst it often leaves the heap at the size the burst left it (30–40 MiB committed for 10–14 MiB live); with the
 * flag one collection packs the survivors.
 */
export function compactingGc(): () => void {
  const gc = v8Gc();
  return () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
}

function heapSize(): HeapSize {
  const h = getHeapStatistics();
  return { committed: h.total_heap_size, used: h.used_heap_size };
}

/** What one idle interval after work gave back, for the log. */
export interface IdleReport {
  /** The committed heap before and after the compaction; undefined when the heap had not grown enough for one. */
  readonly heap?: { readonly beforeBytes: number; readonly afterBytes: number };
  /** malloc_trim ran and answered that it gave pages back (false without the addon). */
  readonly trimmed: boolean;
  readonly ms: number;
}

/**
 * Starts the sampler (its timer does not keep the process alive). `onIdle` is told what each idle interval after
 * work gave back. `trim` is host/malloc-trim.ts's, a test's stand-in. Returns the function that stops it.
 */
export function giveBackMemoryWhenIdle(
  onIdle?: (report: IdleReport) => void,
  trim: () => boolean = mallocTrim,
): () => void {
  const state = idleStartState(heapSize().committed);
  let gc: (() => void) | undefined;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const before = heapSize().committed;
    const action = idleAction(state, utilization, before);
    if (!action) return;
    const start = performance.now();
    if (action.compact) {
      gc ??= compactingGc();
      state.compactedBytes = compact(gc, heapSize);
    }
    const trimmed = trim();
    const ms = performance.now() - start;
    const heap = { beforeBytes: before, afterBytes: state.compactedBytes };
    onIdle?.(action.compact ? { heap, trimmed, ms } : { trimmed, ms });
    last = performance.eventLoopUtilization(); // giving back is not work that calls for another
  }, CHECK_MS);
  timer.unref();
  const startTrim = setImmediate(trim); // what the start freed, given back now, not at the first sample
  startTrim.unref();
  return () => {
    clearInterval(timer);
    clearImmediate(startTrim);
  };
}
