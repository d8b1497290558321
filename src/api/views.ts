/**
 * JSON shapes of runtimes on the wire. Docker's `/info` `Runtimes` map keeps its exact keys (the docker CLI
 * decodes `status` as string → string); berth's own endpoints return the full {@link RuntimeView}.
 *
 * @module
 */
import {
  containerdRuntimeOf,
  type RuncShimOptions,
  type RuntimeSet,
  type RuntimeStatus,
} from '../runtimes/index.ts';

/** Everything berth knows about one runtime. */
export interface RuntimeView {
  readonly Name: string;
  readonly Default: boolean;
  readonly Stock: boolean;
  readonly Kind: 'runc' | 'shim';
  readonly Path?: string;
  readonly RuntimeArgs?: readonly string[];
  readonly RuntimeType?: string;
  readonly Options?: Readonly<Record<string, unknown>>;
  /** The executable berth runs: resolved binary, or the wrapper script carrying the args. */
  readonly Binary?: string;
  readonly Wrapper?: string;
  readonly Root?: string;
  readonly ShimOptions?: RuncShimOptions;
  /** How it runs under the containerd executor: containerd's runtime name, the shim binary, the options message. */
  readonly Containerd: {
    readonly Runtime: string;
    readonly Shim: string;
    readonly Options?: { readonly Type: string; readonly Fields: Readonly<Record<string, unknown>> };
  };
  readonly Status: {
    readonly Health: string;
    readonly Reason?: string;
    readonly ResolvedPath?: string;
    readonly Version?: string;
    readonly Features: Readonly<Record<string, unknown>> | null;
    readonly SmokeTest?: { readonly ok: boolean; readonly ms: number; readonly error?: string };
    readonly ProbedAt: string;
    readonly ProbeMs: number;
  };
}

export function runtimeView(rt: RuntimeStatus, defaultRuntime: string): RuntimeView {
  const p = rt.probe;
  const ctrd = containerdRuntimeOf(rt);
  const common = {
    Name: rt.name,
    Default: rt.name === defaultRuntime,
    Stock: rt.stock,
    Containerd: {
      Runtime: ctrd.name,
      Shim: ctrd.binary,
      ...(ctrd.options ? { Options: { Type: ctrd.options.type, Fields: ctrd.options.fields } } : {}),
    },
  };
  const status = {
    Health: p.health,
    ...(p.reason ? { Reason: p.reason } : {}),
    ...(p.binary ? { ResolvedPath: p.binary } : {}),
    ...(p.version ? { Version: p.version } : {}),
    Features: p.features ?? null,
    ...(p.smokeTest ? { SmokeTest: p.smokeTest } : {}),
    ProbedAt: p.probedAt,
    ProbeMs: p.durationMs,
  };
  if (rt.kind === 'shim') {
    return { ...common, Kind: 'shim', RuntimeType: rt.runtimeType, Options: rt.options, Status: status };
  }
  return {
    ...common,
    Kind: 'runc',
    Path: rt.path,
    RuntimeArgs: rt.runtimeArgs,
    ...('runtimeType' in rt.definition
      ? { RuntimeType: rt.definition.runtimeType, Options: rt.definition.options }
      : {}),
    Binary: rt.cli.binary,
    ...(rt.wrapper ? { Wrapper: rt.wrapper } : {}),
    Root: rt.shimOptions.Root,
    ShimOptions: rt.shimOptions,
    Status: status,
  };
}

/** `/info` `Runtimes`: Docker's `{path, runtimeArgs, status}` per name (API 1.44 status keys as strings). */
export function infoRuntimes(set: RuntimeSet): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const rt of set.runtimes.values()) {
    const p = rt.probe;
    const status: Record<string, string> = { 'berth.health': p.health };
    if (p.reason) status['berth.reason'] = p.reason;
    if (p.version) status['berth.version'] = p.version;
    if (p.features) status['org.opencontainers.runtime-spec.features'] = JSON.stringify(p.features);
    out[rt.name] =
      rt.kind === 'shim'
        ? { runtimeType: rt.runtimeType, options: rt.options, status }
        : {
            path: rt.path,
            ...(rt.runtimeArgs.length ? { runtimeArgs: rt.runtimeArgs } : {}),
            status,
          };
  }
  return out;
}

interface RuntimeInfo {
  runtimes: Record<string, Record<string, unknown>>;
  views: RuntimeView[];
  /** The two as JSON: most of an `/info` answer's bytes (~13 kB with runc), serialised once per set too. */
  runtimesJson: string;
  viewsJson: string;
}

/** Both runtime shapes of `/info`, computed once per runtime set (sets are immutable; reload and check replace them). */
const infoCache = new WeakMap<RuntimeSet, RuntimeInfo>();

export function runtimeInfo(set: RuntimeSet): Readonly<RuntimeInfo> {
  let cached = infoCache.get(set);
  if (!cached) {
    const runtimes = infoRuntimes(set);
    const views = [...set.runtimes.values()].map((rt) => runtimeView(rt, set.defaultRuntime));
    cached = { runtimes, views, runtimesJson: JSON.stringify(runtimes), viewsJson: JSON.stringify(views) };
    infoCache.set(set, cached);
  }
  return cached;
}
