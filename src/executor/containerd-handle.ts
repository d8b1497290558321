/**
 * How a containerd runtime reaches the executor: the shim's name and its options message, packed as the `Any`
 * containerd's Create takes.
 *
 * @module
 */
import { type AnyValue, packAny, runcOptionsType, runtimeOptionsType } from '../containerd/index.ts';
import type { RuntimeHandle } from './executor.ts';

/**
 * A containerd runtime: the shim's name (`io.containerd.runc.v2`) and its options message's fields, as the runtime
 * registry maps them (runtimes/containerd-runtime.ts; the same shape, declared here because executor/ is below).
 */
export interface ContainerdHandle extends RuntimeHandle {
  /** The shim binary (`containerd-shim-runc-v2`), for views and error messages. */
  readonly binary: string;
  /** containerd's runtime name, passed verbatim. */
  readonly name: string;
  readonly options?: {
    readonly type: 'runc' | 'runtimeoptions';
    /** Keyed by the proto's field names (`binary_name`). */
    readonly fields: Readonly<Record<string, unknown>>;
  };
}

/** The options as the `Any` containerd takes. */
export function optionsAny(runtime: ContainerdHandle): AnyValue | undefined {
  const o = runtime.options;
  if (!o) return undefined;
  return o.type === 'runc'
    ? packAny(runcOptionsType(), 'containerd.runc.v1.Options', o.fields)
    : packAny(runtimeOptionsType(), 'runtimeoptions.v1.Options', o.fields);
}

/** Where containerd's runc shim keeps runc's state when its options name no root. */
export const RUNC_SHIM_ROOT = '/run/containerd/runc';
/** The shims that run runc (and keep its state under `<root>/<namespace>/<id>`). */
const RUNC_SHIMS = new Set(['io.containerd.runc.v1', 'io.containerd.runc.v2']);

/** The runc root a runtime's shim passes to runc (`Options.Root`, else the shim's default); undefined: no runc. */
export function runcRootOf(runtime: ContainerdHandle): string | undefined {
  const fields = runtime.options?.type === 'runc' ? runtime.options.fields : {};
  if (typeof fields.root === 'string' && fields.root) return fields.root;
  return RUNC_SHIMS.has(runtime.name) ? RUNC_SHIM_ROOT : undefined;
}
