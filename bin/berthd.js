#!/usr/bin/env node
// The young generation stays at V8's initial 1 MiB semi-spaces instead of growing to 16 MiB ones during start-up
// (~9 MiB of RSS a daemon keeps for nothing: berthd's requests allocate little and live short). The flag is read
// whenever the new space would grow, so setting it here, before the daemon's modules load, is enough: no flag for
// the user to pass, no re-exec. --max-semi-space-size would do the same but is read only at isolate creation.
import { setFlagsFromString } from 'node:v8';

// A node started with its own semi-space flag (node --max-semi-space-size=16 berthd.js, or in NODE_OPTIONS) keeps it.
if (![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space')))
  setFlagsFromString('--semi-space-growth-factor=1');
// undici parses HTTP with llhttp compiled to WebAssembly. V8 first compiles it with Liftoff, then recompiles the hot
// functions with TurboFan in the background, ~35 MiB of transient compiler memory a second after the first registry
// request (berthd's peak RSS in a plugin install; plugin calls go through node:http). Liftoff's code parses the few
// headers the registry client reads at the same speed as far as any request can tell (bodies are passed through).
setFlagsFromString('--liftoff-only');
// glibc gives each thread that mallocs an arena of its own (up to 8 per core): V8's workers, which compile and mark
// concurrently, and libuv's pool. Each arena keeps its own partly used pages, which malloc_trim cannot give back:
// ~2 MiB of a berthd idle with 100 plugins enabled (BENCHMARKS.md, "Memory"). berthd's threads malloc little and
// rarely at once, so they share one. Set before the daemon's modules load, when few threads have an arena yet.
// MALLOC_ARENA_MAX (or GLIBC_TUNABLES) in the environment wins; without native/berth-malloc.node nothing is set.
const env = process.env;
if (!env.MALLOC_ARENA_MAX && !env.GLIBC_TUNABLES?.includes('arena_max')) {
  try {
    const { createRequire } = process.getBuiltinModule('node:module');
    createRequire(import.meta.url)('../native/berth-malloc.node').setArenaMax(1);
  } catch {
    // not built (scripts/setup.sh builds it): malloc's own arenas
  }
}
// The daemon bundled by `npm run build` (scripts/bundle-berthd.mjs): ~14 MiB less RSS and half the start-up CPU of
// loading dist/daemon/entry.js's ~520 files one by one.
await import('../dist/berthd/berthd.js');
