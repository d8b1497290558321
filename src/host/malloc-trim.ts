/**
 * Gives the free pages inside glibc's malloc arenas back to the system, through native/berth-malloc.node (a
 * Node-API addon scripts/setup.sh builds; node has no binding for `malloc_trim`). free() returns only the top of an
 * arena; what lies below a chunk still in use stays resident. In an idle berthd that is ~1.5 MiB the start leaves
 * (V8 compiling the bundle on its worker threads, libuv's first fs calls) and ~4 MiB with 100 plugins created and
 * enabled (the optimising compiler's zones); BENCHMARKS.md, "Memory". The call takes 0.25–1.5 ms.
 *
 * Without the addon (not built, or a libc without malloc_trim) berthd runs as before, with malloc's own trimming.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where setup.sh builds the addon, from this file's folder in src/host/, dist/host/ or the bundle's dist/berthd/. */
export const MALLOC_ADDON = fileURLToPath(new URL('../../native/berth-malloc.node', import.meta.url));

/** `malloc_trim(0)`, or why it cannot be had here. */
export type MallocTrim = { readonly trim: () => boolean } | { readonly unavailable: string };

/** Loads the addon at `path`; a missing or unloadable one is reported, not thrown. */
export function loadMallocTrim(path: string = MALLOC_ADDON): MallocTrim {
  try {
    const addon = createRequire(import.meta.url)(path) as { trim?: unknown };
    if (typeof addon.trim !== 'function') return { unavailable: `${path} has no trim()` };
    const trim = addon.trim as () => unknown;
    return { trim: () => trim() === true };
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    return {
      unavailable: code === 'MODULE_NOT_FOUND' ? `${path} not built (scripts/setup.sh builds it)` : message,
    };
  }
}

let loaded: MallocTrim | undefined;

/**
 * `malloc_trim(0)` through the addon, loaded on first use: false if the addon is not there
 * ({@link mallocTrimUnavailable} says why), else whether malloc gave memory back (nearly always true).
 */
export function mallocTrim(): boolean {
  loaded ??= loadMallocTrim();
  return 'trim' in loaded && loaded.trim();
}

/** Why {@link mallocTrim} cannot trim here, or undefined when it can. */
export function mallocTrimUnavailable(): string | undefined {
  loaded ??= loadMallocTrim();
  return 'unavailable' in loaded ? loaded.unavailable : undefined;
}
