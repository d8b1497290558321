/**
 * From a live runtime set to what a cluster node can be told: which runtimes become CRI handlers under which
 * handler name, which are left out and why. Everything downstream (TOML, YAML, labels) renders this plan.
 *
 * @module
 */
import {
  handlerNameProblem,
  type KubernetesRuntime,
  RUNC_SHIM_TYPE,
  type RuntimeHealth,
  type RuntimeSet,
  type RuntimeStatus,
  STOCK_RUNTIMES,
  suggestHandler,
} from '../runtimes/index.ts';

/** One runtime as a CRI handler. */
export interface HandlerRuntime {
  /** berth's runtime name. */
  readonly name: string;
  /** The CRI handler and RuntimeClass name. */
  readonly handler: string;
  readonly stock: boolean;
  readonly health: RuntimeHealth;
  /** Why the runtime is not `ok` (from the probe). */
  readonly reason?: string;
  /** Health-gated: a runc-compatible runtime berth found usable, or a shim whose binary is installed. */
  readonly available: boolean;
  readonly engine:
    | {
        readonly kind: 'runc';
        /** What containerd's runc shim executes: berth's wrapper script (runtimeArgs) or the binary. */
        readonly binaryName: string;
        /** Only when the definition says so: otherwise the node's own runc setting is kept. */
        readonly systemdCgroup?: boolean;
        readonly noPivotRoot: boolean;
      }
    | {
        readonly kind: 'shim';
        readonly runtimeType: string;
        readonly options: Readonly<Record<string, unknown>>;
        /** Resolved `containerd-shim-*` binary. */
        readonly shimPath?: string;
      };
  readonly kubernetes: KubernetesRuntime;
}

/** A runtime that is not exported, and why. */
export interface LeftOut {
  readonly name: string;
  readonly reason: string;
}

export interface ExportPlan {
  /** Handlers to write, sorted by handler. */
  readonly handlers: readonly HandlerRuntime[];
  /** Runtimes not written, sorted by name. */
  readonly leftOut: readonly LeftOut[];
  /** Every runtime with a handler, exported or not (node labels list them all), sorted by handler. */
  readonly all: readonly HandlerRuntime[];
  /** The handler of berth's default runtime, when it is exported. */
  readonly defaultHandler?: string;
}

export interface PlanOptions {
  /** Keep runtimes whose probe found them unusable. */
  readonly includeUnavailable?: boolean;
  /** The CRI the export is for (default containerd): some runtimes work under one and not the other. */
  readonly cri?: 'containerd' | 'crio';
}

function engineOf(rt: RuntimeStatus): HandlerRuntime['engine'] {
  if (rt.kind === 'shim') {
    return {
      kind: 'shim',
      runtimeType: rt.runtimeType,
      options: rt.options,
      ...(rt.lookup.found ? { shimPath: rt.lookup.path } : {}),
    };
  }
  const def = rt.definition;
  const declared = 'runtimeType' in def && def.runtimeType === RUNC_SHIM_TYPE ? def.options : undefined;
  const systemd = declared?.SystemdCgroup;
  return {
    kind: 'runc',
    // The stock runc is containerd's own runc: the node's binary, not the one berth found.
    binaryName: rt.stock ? '' : rt.shimOptions.BinaryName,
    ...(typeof systemd === 'boolean' ? { systemdCgroup: systemd } : {}),
    noPivotRoot: rt.shimOptions.NoPivotRoot,
  };
}

/**
 * gVisor under containerd's runc shim (measured with containerd 1.6.20 and runsc 20221219): a pod sandbox
 * starts, but the shim never sees the exit of a container runsc starts inside it, and StopPodSandbox never
 * completes, because runsc's "sandbox is not running" is not a kill error the shim accepts. CRI-O runs runsc
 * through conmon and is not affected.
 */
export const GVISOR_RUNC_SHIM_PROBLEM =
  'gVisor (runsc) cannot serve containerd CRI pods through the runc shim: their containers never report an exit and StopPodSandbox never completes; install containerd-shim-runsc-v1 and configure runtimeType "io.containerd.runsc.v1"';

/**
 * Whether the CRI can use the runtime, and why not. A shim berth cannot run itself may still be fine for
 * containerd: what matters is that its binary exists.
 */
function availability(rt: RuntimeStatus, cri: 'containerd' | 'crio'): { ok: boolean; why?: string } {
  if (rt.kind === 'shim') return rt.lookup.found ? { ok: true } : { ok: false, why: rt.lookup.reason };
  if (rt.probe.health === 'unavailable') return { ok: false, why: rt.probe.reason ?? 'probe failed' };
  if (cri === 'containerd' && /^runsc\b/.test(rt.probe.version ?? ''))
    return { ok: false, why: GVISOR_RUNC_SHIM_PROBLEM };
  return { ok: true };
}

/** Builds the export plan of a runtime set. Pure: reads only the set. */
export function planExport(set: RuntimeSet, o: PlanOptions = {}): ExportPlan {
  const all: HandlerRuntime[] = [];
  const leftOut: LeftOut[] = [];
  for (const rt of set.runtimes.values()) {
    // containerd's runc shim type is the stock alias of runc: one runtime, one handler ("runc").
    if (rt.stock && rt.name === STOCK_RUNTIMES[1]) continue;
    const kubernetes = rt.definition.kubernetes ?? {};
    const handler = kubernetes.handler ?? rt.name;
    const problem = handlerNameProblem(handler);
    if (problem) {
      leftOut.push({
        name: rt.name,
        reason: `"${rt.name}" is not a Kubernetes handler name: ${problem}; set "kubernetes": {"handler": "${suggestHandler(rt.name)}"} in daemon.json`,
      });
      continue;
    }
    const usable = availability(rt, o.cri ?? 'containerd');
    all.push({
      name: rt.name,
      handler,
      stock: rt.stock,
      health: rt.probe.health,
      ...(rt.probe.reason ? { reason: rt.probe.reason } : {}),
      available: usable.ok,
      engine: engineOf(rt),
      kubernetes,
    });
    if (!usable.ok && !o.includeUnavailable)
      leftOut.push({ name: rt.name, reason: `unavailable: ${usable.why} (--include-unavailable keeps it)` });
  }
  all.sort((a, b) => compare(a.handler, b.handler));
  leftOut.sort((a, b) => compare(a.name, b.name));
  const handlers = all.filter((h) => h.available || o.includeUnavailable);
  const defaultName = set.defaultRuntime === STOCK_RUNTIMES[1] ? STOCK_RUNTIMES[0] : set.defaultRuntime;
  const defaultHandler = handlers.find((h) => h.name === defaultName)?.handler;
  return { handlers, leftOut, all, ...(defaultHandler ? { defaultHandler } : {}) };
}

/** Code-point order: stable across locales, so output diffs cleanly everywhere. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A deep copy with every object's keys sorted: the renderers' input, so output never depends on order. */
export function sortedDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortedDeep(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(compare))
    out[key] = sortedDeep((value as Record<string, unknown>)[key]);
  return out as T;
}
