/**
 * argv for runc-compatible CLIs (runc, crun, runsc, youki), as pure functions of typed options.
 * Global flags go before the command; see runc(8).
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

/** How to invoke one runtime: its binary (or wrapper), the global flags, and run flags it always needs. */
export interface RuncCli {
  /** Executable to spawn: the runtime binary, or its wrapper script when it has runtimeArgs. */
  readonly binary: string;
  /** Global flags, e.g. `--root <dir>` and `--systemd-cgroup`. */
  readonly globalArgs: readonly string[];
  /** Pass `--no-pivot` to run/create (ramdisk hosts, where pivot_root fails). */
  readonly noPivot: boolean;
  /**
   * `run --keep` (runc has it; crun and runsc do not): the stopped container, and so its cgroup, stays until
   * berth deletes it, which lets the executor read the cgroup's OOM-kill counter after the exit.
   */
  readonly keep?: boolean;
  /**
   * The foreground `run` forwards every signal it gets (but SIGKILL, which it cannot catch) to the container's
   * init, as runc does: a stop signals the `run` process instead of starting `<runtime> kill`.
   */
  readonly forwardsSignals?: boolean;
}

/** Global options shared by every command. */
export interface GlobalOptions {
  /** State directory (`--root`); one per runtime. */
  readonly root: string;
  readonly systemdCgroup?: boolean;
}

export function globalArgs(o: GlobalOptions): string[] {
  return ['--root', o.root, ...(o.systemdCgroup ? ['--systemd-cgroup'] : [])];
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

/** Rejects ids a runtime would refuse or read as a flag. */
export function checkContainerId(id: string): string {
  if (!CONTAINER_ID.test(id)) {
    throw new InvalidParameterError(
      `invalid container id ${JSON.stringify(id)}: use letters, digits and "_.+-", starting with a letter or digit`,
    );
  }
  return id;
}

export interface RunOptions {
  readonly bundle: string;
  readonly noPivot?: boolean;
  readonly pidFile?: string;
  readonly keep?: boolean;
}

/** `run` in the foreground: the runtime stays the parent of the container and exits with its status. */
export function runArgs(id: string, o: RunOptions): string[] {
  return [
    'run',
    '--bundle',
    o.bundle,
    ...(o.noPivot ? ['--no-pivot'] : []),
    ...(o.pidFile ? ['--pid-file', o.pidFile] : []),
    ...(o.keep ? ['--keep'] : []),
    checkContainerId(id),
  ];
}

/**
 * Whether `argv` (binary first) is a foreground `run` of container `id` through `cli`: the same binary and global
 * flags (so the same state root). Matches what {@link runArgs} builds, whatever run flags it had.
 */
export function isRunOf(cli: RuncCli, id: string, argv: readonly string[]): boolean {
  const head = [cli.binary, ...cli.globalArgs, 'run'];
  return argv.length > head.length && head.every((a, i) => argv[i] === a) && argv.at(-1) === id;
}

export function killArgs(id: string, signal: string, o: { all?: boolean } = {}): string[] {
  return ['kill', ...(o.all ? ['--all'] : []), checkContainerId(id), signal];
}

export function deleteArgs(id: string, o: { force?: boolean } = {}): string[] {
  return ['delete', ...(o.force ? ['--force'] : []), checkContainerId(id)];
}

export function stateArgs(id: string): string[] {
  return ['state', checkContainerId(id)];
}

export function listArgs(): string[] {
  return ['list', '--format', 'json'];
}

/** Full argv (after the binary) for a command through a runtime. */
export function withGlobals(cli: RuncCli, command: readonly string[]): string[] {
  return [...cli.globalArgs, ...command];
}
