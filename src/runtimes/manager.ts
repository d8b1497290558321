/**
 * The live runtime registry. A set is built aside — validated, resolved, wrappers written, every runtime
 * probed in parallel — and only then swapped in with one assignment, so readers never see a half-loaded set
 * and a failed reload keeps the old one. Reloads and re-checks are serialised.
 *
 * @module
 */

import { InvalidParameterError, NotFoundError, UnavailableError } from '../errdefs/index.ts';
import type { RuntimeHandle } from '../executor/index.ts';
import { findExecutable } from '../host/index.ts';
import { parseRuntimesConfig, type RuntimesConfig, type RuntimesConfigSource } from './config.ts';
import { type ContainerdRuntime, containerdRuntimeOf } from './containerd-runtime.ts';
import { isShimRuntimeName, STOCK_RUNTIMES, shimBinaryName } from './names.ts';
import { ProbeCache, type ProbeOptions, probeRuntime, type RuntimeProbe } from './probe.ts';
import {
  type ResolvedRuntime,
  type RuncRuntime,
  type RuntimeHost,
  resolveRuntime,
  resolveRuntimes,
} from './resolve.ts';

/** A resolved runtime with its last probe. */
export type RuntimeStatus = ResolvedRuntime & { readonly probe: RuntimeProbe };

/** One loaded generation of the registry. Immutable. */
export interface RuntimeSet {
  readonly generation: number;
  readonly config: RuntimesConfig;
  readonly defaultRuntime: string;
  /** Stock runtimes first, then configured ones in configuration order. */
  readonly runtimes: ReadonlyMap<string, RuntimeStatus>;
  readonly loadedAt: string;
}

/** What a reload changed. */
export interface ReloadDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  /** Set when the default runtime changed. */
  readonly defaultRuntime?: { readonly from: string; readonly to: string };
}

export interface RuntimeManagerOptions {
  readonly host: RuntimeHost;
  readonly probe: ProbeOptions;
  /** Told about every probe that ran, at load, reload and check (metrics). Must not throw. */
  readonly onProbe?: (runtime: string, probe: RuntimeProbe) => void;
}

/** Computes added / removed / changed (by definition digest) and the default change between two sets. */
export function diffRuntimeSets(from: RuntimeSet, to: RuntimeSet): ReloadDiff {
  const added = [...to.runtimes.keys()].filter((n) => !from.runtimes.has(n));
  const removed = [...from.runtimes.keys()].filter((n) => !to.runtimes.has(n));
  const changed = [...to.runtimes.entries()]
    .filter(([n, rt]) => from.runtimes.has(n) && from.runtimes.get(n)?.digest !== rt.digest)
    .map(([n]) => n);
  return {
    added,
    removed,
    changed,
    ...(from.defaultRuntime !== to.defaultRuntime
      ? { defaultRuntime: { from: from.defaultRuntime, to: to.defaultRuntime } }
      : {}),
  };
}

/** What runs a container needs of the registry: a runtime that can run now, with its executor's handle. */
export interface RunnableRuntimes {
  /** @throws {InvalidParameterError} for an unknown or refused name */
  lookup(name: string): unknown;
  /** @throws {UnavailableError} when it cannot run now (a promise when finding out takes I/O) */
  runnable(
    name: string | undefined,
  ):
    | { readonly name: string; readonly cli: RuntimeHandle }
    | Promise<{ readonly name: string; readonly cli: RuntimeHandle }>;
}

/**
 * The registry as the containerd executor sees it: every runtime mapped to its shim and options, runnable only
 * while containerd answers (`reachable` throws an {@link UnavailableError} saying why), so an enable or a run
 * gets a 503 with the reason instead of a failed start.
 */
export function underContainerd(runtimes: RuntimeManager, reachable: () => Promise<void>): RunnableRuntimes {
  return {
    lookup: (name) => runtimes.lookup(name),
    runnable: async (name) => {
      const rt = runtimes.runnableUnderContainerd(name);
      await reachable();
      return rt;
    },
  };
}

export class RuntimeManager {
  readonly #options: RuntimeManagerOptions;
  readonly #cache = new ProbeCache();
  #current: RuntimeSet | undefined;
  #generation = 0;
  /** Tail of the serialised reload/check queue. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RuntimeManagerOptions) {
    this.#options = options;
  }

  /** The loaded set. @throws when nothing is loaded yet */
  current(): RuntimeSet {
    if (!this.#current) throw new UnavailableError('runtimes are not loaded yet');
    return this.#current;
  }

  /** Validates, resolves and probes a configuration into a new set without making it current. */
  async build(source: RuntimesConfigSource): Promise<RuntimeSet> {
    const config = parseRuntimesConfig(source);
    const resolved = resolveRuntimes(config, this.#options.host);
    const probes = await Promise.all(
      resolved.map((rt) => probeRuntime(rt, this.#options.probe, this.#cache)),
    );
    const runtimes = new Map<string, RuntimeStatus>(
      resolved.map((rt, i) => [rt.name, withProbe(rt, probes[i])]),
    );
    for (const rt of runtimes.values()) this.#options.onProbe?.(rt.name, rt.probe);
    return {
      generation: ++this.#generation,
      config,
      defaultRuntime: config.defaultRuntime,
      runtimes,
      loadedAt: new Date().toISOString(),
    };
  }

  /**
   * Loads `source` and makes it current; on any error the current set stays. Queued behind running reloads.
   * Returns the diff against the previous set (everything added on the first load).
   */
  reload(source: RuntimesConfigSource): Promise<{ diff: ReloadDiff; set: RuntimeSet }> {
    return this.#serialise(async () => {
      const next = await this.build(source);
      const previous = this.#current ?? emptySet();
      this.#current = next;
      return { diff: diffRuntimeSets(previous, next), set: next };
    });
  }

  /** Re-probes one runtime (or all) of the current set and publishes the fresh results. */
  check(name?: string): Promise<RuntimeStatus[]> {
    return this.#serialise(async () => {
      const set = this.current();
      const targets = name === undefined ? [...set.runtimes.values()] : [this.inspect(name)];
      const fresh = await Promise.all(
        targets.map(async (rt) => withProbe(rt, await probeRuntime(rt, this.#options.probe))),
      );
      const runtimes = new Map(set.runtimes);
      for (const rt of fresh) {
        runtimes.set(rt.name, rt);
        this.#options.onProbe?.(rt.name, rt.probe);
      }
      this.#current = { ...set, runtimes };
      return fresh;
    });
  }

  /** A configured or stock runtime by name. @throws {NotFoundError} otherwise */
  inspect(name: string): RuntimeStatus {
    const set = this.current();
    const rt = set.runtimes.get(name);
    if (!rt) throw new NotFoundError(`no such runtime: ${name} (configured: ${names(set)})`);
    return rt;
  }

  /**
   * The seed's `getRuntime`: empty → default; configured and stock names; any other permissible containerd
   * shim name as an ad-hoc shim runtime whose binary must be installed; everything else refused.
   */
  lookup(name: string | undefined): ResolvedRuntime {
    const set = this.current();
    const wanted = name || set.defaultRuntime;
    const known = set.runtimes.get(wanted);
    if (known) return known;
    if (isShimRuntimeName(wanted)) {
      const shim = shimBinaryName(wanted);
      if (!findExecutable(shim, this.#options.host.pathEnv).found) {
        throw new InvalidParameterError(
          `runtime "${wanted}" binary not installed "${shim}": not found in PATH; install it or use one of: ${names(set)}`,
        );
      }
      return resolveRuntime(wanted, { runtimeType: wanted, options: {} }, this.#options.host);
    }
    throw unknownRuntime(set, wanted);
  }

  /**
   * A runtime the runc executor can run now.
   * @throws {InvalidParameterError} unknown name
   * @throws {UnavailableError} a shim runtime, or one whose last probe found it unusable
   */
  runnable(name: string | undefined): RuncRuntime {
    const rt = this.lookup(name);
    if (rt.kind === 'shim') {
      throw new UnavailableError(
        `runtime ${rt.name} is a containerd shim (${rt.shimBinary}); berth runs shims only with the containerd executor, which is not enabled`,
      );
    }
    const probe = 'probe' in rt ? (rt as RuntimeStatus).probe : undefined;
    if (probe?.health === 'unavailable') {
      throw new UnavailableError(
        `runtime ${rt.name} is unavailable: ${probe.reason}; fix it, then run "berth runtime check ${rt.name}"`,
      );
    }
    return rt;
  }

  /**
   * A runtime as the containerd executor runs it (moby 24+'s mapping): runc-compatible runtimes under the runc v2
   * shim, shim runtimes verbatim.
   * @throws {InvalidParameterError} unknown name; {UnavailableError} unavailable runtime or missing shim binary
   */
  runnableUnderContainerd(name: string | undefined): {
    readonly name: string;
    readonly cli: ContainerdRuntime;
  } {
    const rt = this.lookup(name);
    if (rt.kind === 'shim') {
      if (!rt.lookup.found)
        throw new UnavailableError(
          `runtime ${rt.name} needs the containerd shim ${rt.shimBinary}, which is not installed: ${rt.lookup.reason}`,
        );
      return { name: rt.name, cli: containerdRuntimeOf(rt) };
    }
    return { name: rt.name, cli: containerdRuntimeOf(this.runnable(name)) };
  }

  #serialise<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function withProbe(rt: ResolvedRuntime, probe: RuntimeProbe | undefined): RuntimeStatus {
  if (!probe) throw new Error(`BUG: no probe result for runtime ${rt.name}`);
  return { ...rt, probe };
}

function names(set: RuntimeSet): string {
  return [...set.runtimes.keys()].join(', ');
}

function unknownRuntime(set: RuntimeSet, name: string): InvalidParameterError {
  return new InvalidParameterError(`unknown or invalid runtime name: ${name} (configured: ${names(set)})`);
}

function emptySet(): RuntimeSet {
  return {
    generation: 0,
    config: { runtimes: {}, defaultRuntime: STOCK_RUNTIMES[0] },
    defaultRuntime: STOCK_RUNTIMES[0],
    runtimes: new Map(),
    loadedAt: new Date(0).toISOString(),
  };
}
