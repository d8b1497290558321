/**
 * CRI-O drop-in (`/etc/crio/crio.conf.d/*.conf`, crio.conf(5)) rendered from an {@link ExportPlan}:
 * `[crio.runtime.runtimes.<handler>]` with `runtime_path`, `runtime_type` (`oci` for runc-compatible CLIs, `vm`
 * for containerd shims), `runtime_root`, `runtime_config_path` for shims configured with one, and
 * `monitor_path` when conmon was found. Pure.
 *
 * @module
 */
import { renderToml } from './containerd.ts';
import type { ExportPlan, HandlerRuntime } from './model.ts';

/** Per-handler state roots (CRI-O's default is one `/run/runc` for everything). */
export const CRIO_STATE_ROOT = '/run/crio/berth';

export interface CrioOptions {
  /** conmon's path, when known on this node. */
  readonly monitorPath?: string;
  readonly stateRoot?: string;
}

/** The keys crio.conf(5) documents for `[crio.runtime.runtimes.*]` that berth writes (checked by a test). */
export const CRIO_RUNTIME_KEYS = [
  'runtime_path',
  'runtime_type',
  'runtime_root',
  'runtime_config_path',
  'monitor_path',
] as const;

export function crioRuntime(h: HandlerRuntime, o: CrioOptions = {}): Record<string, string> {
  const monitor = o.monitorPath ? { monitor_path: o.monitorPath } : {};
  if (h.engine.kind === 'shim') {
    const config = h.engine.options.ConfigPath;
    return {
      runtime_path: h.engine.shimPath ?? h.engine.runtimeType,
      runtime_type: 'vm',
      ...(typeof config === 'string' ? { runtime_config_path: config } : {}),
      ...monitor,
    };
  }
  // The stock runc is CRI-O's own: its path and state root stay the node's (a new root would orphan pods).
  if (h.stock) return { runtime_type: 'oci', ...monitor };
  return {
    runtime_path: h.engine.binaryName,
    runtime_type: 'oci',
    runtime_root: `${o.stateRoot ?? CRIO_STATE_ROOT}/${h.handler}`,
    ...monitor,
  };
}

/** The whole drop-in: `crio.runtime.default_runtime` and one table per handler. */
export function renderCrio(plan: ExportPlan, o: CrioOptions = {}): string {
  const runtimes: Record<string, unknown> = {};
  for (const h of plan.handlers) runtimes[h.handler] = crioRuntime(h, o);
  const runtime = {
    ...(plan.defaultHandler ? { default_runtime: plan.defaultHandler } : {}),
    runtimes,
  };
  return renderToml(plan, { crio: { runtime } });
}
