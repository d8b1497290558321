/**
 * daemon.json's `runtimes` and `default-runtime`, plus the `--add-runtime` / `--default-runtime` flags:
 * parsed, merged and validated into a {@link RuntimesConfig}. Messages are moby's where moby has one; every
 * problem is reported, not only the first.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';
import { checkKubernetes, handlerClashes, type KubernetesRuntime } from './kubernetes.ts';
import {
  isShimRuntimeName,
  isStockRuntime,
  RUNC_SHIM_TYPE,
  runtimeNameProblem,
  STOCK_DEFAULT_RUNTIME,
} from './names.ts';

/**
 * One configured runtime: a runc-compatible binary (`path`, optional `runtimeArgs`) or a containerd shim type,
 * plus optionally how it is exported to Kubernetes (`kubernetes`).
 */
export type RuntimeEntry = (
  | { readonly path: string; readonly runtimeArgs: readonly string[] }
  | { readonly runtimeType: string; readonly options: Readonly<Record<string, unknown>> }
) & { readonly kubernetes?: KubernetesRuntime };

/** The validated runtime configuration. */
export interface RuntimesConfig {
  readonly runtimes: Readonly<Record<string, RuntimeEntry>>;
  readonly defaultRuntime: string;
}

/** The raw inputs: daemon.json fields and command-line flags. */
export interface RuntimesConfigSource {
  /** daemon.json `runtimes` (any JSON; checked here). */
  readonly runtimes?: unknown;
  /** daemon.json `default-runtime`. */
  readonly defaultRuntime?: unknown;
  /** `--add-runtime NAME=PATH`, repeatable. */
  readonly addRuntime?: readonly string[];
  /** `--default-runtime NAME`. */
  readonly defaultRuntimeFlag?: string;
}

const KEYS = ['path', 'runtimeArgs', 'runtimeType', 'options', 'kubernetes'] as const;
/** Spellings users write (seen in bug reports) → the key they meant. */
const KNOWN_MISTAKES: Record<string, string> = {
  args: 'runtimeArgs',
  runtimeargs: 'runtimeArgs',
  runtime_args: 'runtimeArgs',
  'runtime-args': 'runtimeArgs',
  runtime_type: 'runtimeType',
  'runtime-type': 'runtimeType',
  runtimetype: 'runtimeType',
  type: 'runtimeType',
  binary: 'path',
  binaryname: 'path',
  opts: 'options',
  k8s: 'kubernetes',
  runtimeclass: 'kubernetes',
};

function suggestKey(key: string): string | undefined {
  const known = KNOWN_MISTAKES[key.toLowerCase()] ?? KNOWN_MISTAKES[key];
  if (known) return known;
  return KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkEntry(name: string, raw: unknown, problems: string[]): RuntimeEntry | undefined {
  if (!isRecord(raw)) {
    problems.push(
      `runtime ${name}: must be an object like {"path": "/usr/bin/crun"}, got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if ((KEYS as readonly string[]).includes(key)) continue;
    const hint = suggestKey(key);
    problems.push(`runtime ${name}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  const { path, runtimeArgs, runtimeType, options } = raw;
  const kubernetes =
    raw.kubernetes === undefined ? undefined : checkKubernetes(name, raw.kubernetes, problems);
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    problems.push(`runtime ${name}: path must be a non-empty string`);
  } else if (typeof path === 'string' && !path.startsWith('/') && path.includes('/')) {
    problems.push(`runtime ${name}: path "${path}" must be absolute or a command name looked up in PATH`);
  }
  if (
    runtimeArgs !== undefined &&
    !(Array.isArray(runtimeArgs) && runtimeArgs.every((a) => typeof a === 'string'))
  ) {
    problems.push(`runtime ${name}: runtimeArgs must be an array of strings`);
  }
  if (runtimeType !== undefined && (typeof runtimeType !== 'string' || !isShimRuntimeName(runtimeType))) {
    problems.push(
      `runtime ${name}: runtimeType ${JSON.stringify(runtimeType)} is not a containerd shim type such as "io.containerd.kata.v2"`,
    );
  }
  if (options !== undefined && !isRecord(options))
    problems.push(`runtime ${name}: options must be an object`);
  else if (runtimeType === RUNC_SHIM_TYPE && options !== undefined) checkRuncOptions(name, options, problems);
  if (path === undefined && runtimeType === undefined) {
    problems.push(`runtime ${name}: either a runtimeType or a path must be configured`);
  }
  if (path !== undefined && runtimeType !== undefined) {
    problems.push(`runtime ${name}: cannot configure both path and runtimeType for the same runtime`);
  }
  if (path !== undefined && options !== undefined) {
    problems.push(`runtime ${name}: options cannot be used with a path runtime`);
  }
  if (runtimeType !== undefined && runtimeArgs !== undefined) {
    problems.push(`runtime ${name}: args cannot be used with a runtimeType runtime`);
  }
  if (problems.length > before) return undefined;
  const k8s = kubernetes ? { kubernetes } : {};
  return typeof path === 'string'
    ? { path, runtimeArgs: [...((runtimeArgs as string[] | undefined) ?? [])], ...k8s }
    : {
        runtimeType: runtimeType as string,
        options: { ...((options as Record<string, unknown>) ?? {}) },
        ...k8s,
      };
}

/** `io.containerd.runc.v2` options the direct runc executor honours, with their JSON types. */
const RUNC_OPTIONS: Record<string, 'string' | 'boolean'> = {
  BinaryName: 'string',
  SystemdCgroup: 'boolean',
  NoPivotRoot: 'boolean',
};
/** Options of containerd's runc shim that only make sense with a shim process. */
const SHIM_ONLY_RUNC_OPTIONS = [
  'NoNewKeyring',
  'ShimCgroup',
  'IoUid',
  'IoGid',
  'CriuImagePath',
  'CriuWorkPath',
  'Root',
];

function checkRuncOptions(name: string, options: Record<string, unknown>, problems: string[]): void {
  for (const [key, value] of Object.entries(options)) {
    const type = RUNC_OPTIONS[key];
    if (type === undefined) {
      const hint = Object.keys(RUNC_OPTIONS).find((k) => k.toLowerCase() === key.toLowerCase());
      const why = SHIM_ONLY_RUNC_OPTIONS.includes(key)
        ? "is a containerd shim option berth's runc executor does not use"
        : `is unknown${hint ? ` (did you mean "${hint}"?)` : ''}`;
      problems.push(
        `runtime ${name}: option "${key}" ${why}; supported: ${Object.keys(RUNC_OPTIONS).join(', ')}`,
      );
    } else if (typeof value !== type) {
      problems.push(`runtime ${name}: option ${key} must be a ${type}, got ${JSON.stringify(value)}`);
    }
  }
}

function checkName(name: string, problems: string[]): boolean {
  if (isStockRuntime(name)) {
    problems.push(`runtime name '${name}' is reserved`);
    return false;
  }
  const problem = runtimeNameProblem(name);
  if (problem) problems.push(`invalid runtime name ${JSON.stringify(name)}: ${problem}`);
  return problem === undefined;
}

/** `--add-runtime NAME=PATH` → [name, path]; the name is lower-cased as dockerd does. */
function parseAddRuntime(flag: string, problems: string[]): [string, string] | undefined {
  const at = flag.indexOf('=');
  if (at <= 0 || at === flag.length - 1) {
    problems.push(`invalid runtime argument: ${flag} (expected --add-runtime NAME=PATH)`);
    return undefined;
  }
  return [flag.slice(0, at).toLowerCase(), flag.slice(at + 1)];
}

/**
 * Merges and validates runtime configuration from daemon.json and flags.
 *
 * @throws {InvalidParameterError} listing every problem, one per line
 */
export function parseRuntimesConfig(source: RuntimesConfigSource): RuntimesConfig {
  const problems: string[] = [];
  const runtimes: Record<string, RuntimeEntry> = {};
  if (source.runtimes !== undefined && !isRecord(source.runtimes)) {
    problems.push('runtimes must be an object mapping names to {"path": …} or {"runtimeType": …}');
  } else {
    for (const [name, raw] of Object.entries(source.runtimes ?? {})) {
      const entry = checkEntry(name, raw, problems);
      if (checkName(name, problems) && entry) runtimes[name] = entry;
    }
  }
  for (const flag of source.addRuntime ?? []) {
    const parsed = parseAddRuntime(flag, problems);
    if (!parsed) continue;
    const [name, path] = parsed;
    if (!checkName(name, problems)) continue;
    if (name in runtimes) problems.push(`runtime '${name}' was already defined`);
    else {
      const entry = checkEntry(name, { path }, problems);
      if (entry) runtimes[name] = entry;
    }
  }
  problems.push(...handlerClashes(runtimes));
  const fileDefault = source.defaultRuntime;
  if (fileDefault !== undefined && typeof fileDefault !== 'string')
    problems.push('default-runtime must be a string');
  if (
    source.defaultRuntimeFlag !== undefined &&
    typeof fileDefault === 'string' &&
    fileDefault !== source.defaultRuntimeFlag
  ) {
    problems.push(
      `the following directives are specified both as a flag and in the configuration file: default-runtime: (from flag: ${source.defaultRuntimeFlag}, from file: ${fileDefault})`,
    );
  }
  const defaultRuntime =
    source.defaultRuntimeFlag || (typeof fileDefault === 'string' && fileDefault) || STOCK_DEFAULT_RUNTIME;
  if (!isStockRuntime(defaultRuntime) && !(defaultRuntime in runtimes)) {
    const known = [...Object.keys(runtimes), 'runc', 'io.containerd.runc.v2'].join(', ');
    problems.push(`specified default runtime '${defaultRuntime}' does not exist (configured: ${known})`);
  }
  if (problems.length > 0) throw new InvalidParameterError(problems.join('\n'));
  return { runtimes, defaultRuntime };
}
