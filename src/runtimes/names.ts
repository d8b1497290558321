/**
 * Runtime name rules. A runtime name becomes part of file names (wrapper scripts) and is accepted from the
 * Engine API, so it must never be readable as a path.
 *
 * @module
 */

/** Names berth always defines; configuring either is an error. */
export const STOCK_RUNTIMES = ['runc', 'io.containerd.runc.v2'] as const;
/** containerd's runc shim type: runc-compatible, so berth runs it directly. */
export const RUNC_SHIM_TYPE = 'io.containerd.runc.v2';
/** The default runtime when none is configured. */
export const STOCK_DEFAULT_RUNTIME = 'runc';
/** Longest accepted runtime name (a DNS label, so names can be exported as Kubernetes RuntimeClass handlers). */
export const MAX_RUNTIME_NAME_LENGTH = 63;

export const isStockRuntime = (name: string): boolean => (STOCK_RUNTIMES as readonly string[]).includes(name);

/** Why `name` cannot name a configured runtime, or undefined when it can. */
export function runtimeNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > MAX_RUNTIME_NAME_LENGTH) return `it is longer than ${MAX_RUNTIME_NAME_LENGTH} characters`;
  if (name.includes('/')) return 'it contains "/"';
  if (name.includes('..') || name === '.') return 'it contains ".."';
  if (name.startsWith('-')) return 'it starts with "-"';
  if (/[\s\p{Cc}]/u.test(name)) return 'it contains white space or control characters';
  return undefined;
}

/**
 * Whether containerd would read `name` as a shim runtime type rather than a path to a binary: not absolute, no
 * `/`, and a dot with a non-empty part before it (moby's `isPermissibleC8dRuntimeName`).
 */
export function isShimRuntimeName(name: string): boolean {
  if (name.includes('/') || runtimeNameProblem(name)) return false;
  const dot = name.indexOf('.');
  return dot > 0;
}

/**
 * The binary containerd starts for a shim runtime type: `io.containerd.kata.v2` → `containerd-shim-kata-v2`
 * (the last two dot-separated parts), as containerd's `shim.BinaryName`.
 */
export function shimBinaryName(runtimeType: string): string {
  const parts = runtimeType.split('.');
  const version = parts.at(-1) ?? '';
  const name = parts.at(-2) ?? '';
  return `containerd-shim-${name}-${version}`;
}
