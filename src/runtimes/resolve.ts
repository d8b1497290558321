/**
 * From validated configuration to runnable runtimes: every runc-compatible runtime gets its binary resolved,
 * its wrapper script (when it has args), its own state root and the runc CLI invocation the executor uses;
 * every other shim type gets its `containerd-shim-*` binary resolved up front.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { RuncCli } from '../executor/index.ts';
import { globalArgs } from '../executor/index.ts';
import { type ExecutableLookup, findExecutable } from '../host/index.ts';
import type { RuntimeEntry, RuntimesConfig } from './config.ts';
import { RUNC_SHIM_TYPE, STOCK_RUNTIMES, shimBinaryName } from './names.ts';
import { writeWrapper } from './wrapper.ts';

/** Host facts and directories runtimes are resolved against. */
export interface RuntimeHost {
  /** Per-runtime state roots live at `<execRoot>/runtime-<name>`. */
  readonly execRoot: string;
  /** Directory of wrapper scripts (`<data-root>/runtimes`). */
  readonly wrapperDir: string;
  /** `DOCKER_RAMDISK` or `BERTH_RAMDISK` is set: pivot_root cannot work. */
  readonly noPivotRoot: boolean;
  /** `PATH` used to resolve bare binary names. */
  readonly pathEnv: string;
}

/** The options containerd's runc shim would get (moby's `runcoptions.Options`), shown in inspect. */
export interface RuncShimOptions {
  readonly BinaryName: string;
  readonly Root: string;
  readonly SystemdCgroup: boolean;
  readonly NoPivotRoot: boolean;
}

interface RuntimeBase {
  readonly name: string;
  /** Defined by berth itself (`runc`, `io.containerd.runc.v2`). */
  readonly stock: boolean;
  /** The configured definition, as written. */
  readonly definition: RuntimeEntry;
  /** sha256 of the definition: equal digests mean an unchanged runtime across reloads. */
  readonly digest: string;
  /** Where the binary was found, or why not. */
  readonly lookup: ExecutableLookup;
}

/** A runc-compatible CLI berth runs directly (runc, crun, runsc, youki…). */
export interface RuncRuntime extends RuntimeBase {
  readonly kind: 'runc';
  /** The configured binary (path or bare name). */
  readonly path: string;
  readonly runtimeArgs: readonly string[];
  /** Wrapper script carrying `runtimeArgs`, when there are any. */
  readonly wrapper?: string;
  readonly shimOptions: RuncShimOptions;
  /** How the executor invokes it. */
  readonly cli: RuncCli;
}

/** A containerd shim v2 runtime; runnable only through the containerd executor. */
export interface ShimRuntime extends RuntimeBase {
  readonly kind: 'shim';
  readonly runtimeType: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** `containerd-shim-<name>-<version>`. */
  readonly shimBinary: string;
}

export type ResolvedRuntime = RuncRuntime | ShimRuntime;

const STOCK_ENTRY: RuntimeEntry = { path: 'runc', runtimeArgs: [] };

function digestOf(entry: RuntimeEntry): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex');
}

/** State root of one runtime: never shared, unlike moby's single `runtime-runc` (runtimes.md §1.2). */
export function runtimeRoot(execRoot: string, name: string): string {
  return join(execRoot, `runtime-${name}`);
}

function resolveRunc(
  name: string,
  definition: RuntimeEntry,
  target: { path: string; args: readonly string[]; systemdCgroup: boolean; noPivotRoot: boolean },
  host: RuntimeHost,
  stock: boolean,
  find: Finder,
): RuncRuntime {
  const lookup = find(target.path);
  const binary = lookup.found ? lookup.path : target.path;
  const wrapper =
    target.args.length > 0 ? writeWrapper(host.wrapperDir, name, binary, target.args) : undefined;
  const root = runtimeRoot(host.execRoot, name);
  // runc's own `--keep` (others lack it) lets the executor read the OOM counter of the exited container, and its
  // foreground `run` forwards signals; a wrapper script `exec`s it, so the process a stop signals is runc itself.
  const isRunc = basename(binary) === 'runc';
  return {
    kind: 'runc',
    name,
    stock,
    definition,
    digest: digestOf(definition),
    lookup,
    path: target.path,
    runtimeArgs: target.args,
    ...(wrapper ? { wrapper } : {}),
    shimOptions: {
      BinaryName: wrapper ?? binary,
      Root: root,
      SystemdCgroup: target.systemdCgroup,
      NoPivotRoot: target.noPivotRoot,
    },
    cli: {
      binary: wrapper ?? binary,
      globalArgs: globalArgs({ root, systemdCgroup: target.systemdCgroup }),
      noPivot: target.noPivotRoot,
      keep: isRunc,
      forwardsSignals: isRunc,
    },
  };
}

type Finder = (command: string) => ExecutableLookup;

/** A PATH lookup memoised for one resolution pass: a thousand runtimes on `runc` search PATH once. */
function memoFinder(pathEnv: string): Finder {
  const seen = new Map<string, ExecutableLookup>();
  return (command) => {
    let found = seen.get(command);
    if (!found) {
      found = findExecutable(command, pathEnv);
      seen.set(command, found);
    }
    return found;
  };
}

/** Resolves one runtime definition. Writes its wrapper script when it has args. */
export function resolveRuntime(
  name: string,
  entry: RuntimeEntry,
  host: RuntimeHost,
  stock = false,
  find: Finder = memoFinder(host.pathEnv),
): ResolvedRuntime {
  if ('path' in entry) {
    const target = {
      path: entry.path,
      args: entry.runtimeArgs,
      systemdCgroup: false,
      noPivotRoot: host.noPivotRoot,
    };
    return resolveRunc(name, entry, target, host, stock, find);
  }
  if (entry.runtimeType === RUNC_SHIM_TYPE) {
    const o = entry.options;
    const target = {
      path: typeof o.BinaryName === 'string' && o.BinaryName !== '' ? o.BinaryName : 'runc',
      args: [],
      systemdCgroup: o.SystemdCgroup === true,
      noPivotRoot: o.NoPivotRoot === true || host.noPivotRoot,
    };
    return resolveRunc(name, entry, target, host, stock, find);
  }
  const shimBinary = shimBinaryName(entry.runtimeType);
  return {
    kind: 'shim',
    name,
    stock,
    definition: entry,
    digest: digestOf(entry),
    lookup: find(shimBinary),
    runtimeType: entry.runtimeType,
    options: entry.options,
    shimBinary,
  };
}

/** Resolves the stock runtimes and every configured one, in that order. */
export function resolveRuntimes(config: RuntimesConfig, host: RuntimeHost): ResolvedRuntime[] {
  const find = memoFinder(host.pathEnv);
  return [
    ...STOCK_RUNTIMES.map((name) => resolveRuntime(name, STOCK_ENTRY, host, true, find)),
    ...Object.entries(config.runtimes).map(([name, entry]) => resolveRuntime(name, entry, host, false, find)),
  ];
}
