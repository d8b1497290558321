/**
 * `runc init` processes nobody supervises any more. A shim that dies (or is shut down by containerd) in the middle
 * of `runc create` leaves the container's init blocked on its exec FIFO for ever: `runc create` is gone, so no
 * `state.json` names it; the shim's cleanup (`runc delete --force`) then removes the state dir without killing it;
 * it is reparented to pid 1 (the shim was its subreaper), so neither containerd, nor a shim's process tree, nor
 * `runc list` finds it. What names it is its environment: `_LIBCONTAINER_STATEDIR=<runc root>/<namespace>/<id>`.
 *
 * {@link findRuncOrphans} decides over a snapshot of the process table (pure: tests hand it fake entries);
 * {@link readProcEntries}, {@link killRuncOrphans} and {@link deleteRuncState} are the I/O at the boundary.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { runCommand } from './command.ts';
import { deleteArgs } from './runc-args.ts';

/** One process as /proc shows it. */
export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Field 22 of `stat` (clock ticks after boot): with the pid it names one process, even after pid reuse. */
  readonly startTime: number;
  readonly argv: readonly string[];
  /** `_LIBCONTAINER_STATEDIR`, read for `init` processes only (nobody else's environment is read). */
  readonly stateDir?: string;
}

/** A `runc init` and whether a live containerd shim is among its ancestors. */
export interface RuncInit {
  readonly pid: number;
  readonly startTime: number;
  readonly stateDir: string;
  /**
   * A shim (or a process whose ancestry could not be read whole: it may be one) is above it. A container being
   * created is always below its shim: `runc create` is, and the shim is the subreaper its init falls back to.
   */
  readonly supervised: boolean;
}

export interface RuncOrphan {
  readonly pid: number;
  readonly startTime: number;
  readonly stateDir: string;
  /** The container id the state dir names. */
  readonly id: string;
}

export interface OrphanQuery {
  /** runc's per-namespace state directories (`<runc root>/<namespace>`) whose containers are to be checked. */
  readonly stateRoots: readonly string[];
  /** Container ids that something still knows (containerd's tasks and records, the executor's own): kept. */
  readonly knownIds: ReadonlySet<string>;
  /** Pids of known tasks' inits: kept. */
  readonly knownPids: ReadonlySet<number>;
}

/** A containerd shim (`containerd-shim-runc-v2`, any other `containerd-shim-*`). */
export const isShim = (p: ProcEntry): boolean => basename(p.argv[0] ?? '').startsWith('containerd-shim');

/** Every `runc init` in `procs` (an `init` process with runc's state-dir variable). */
export function runcInits(procs: readonly ProcEntry[]): RuncInit[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const supervised = (p: ProcEntry): boolean => {
    const seen = new Set<number>();
    for (let pid = p.ppid; pid > 1; ) {
      const parent = byPid.get(pid);
      // Vanished meanwhile, a loop, or an ancestor without a command line (exiting: a dying shim?): do not guess.
      if (!parent || seen.has(pid) || !parent.argv[0]) return true;
      if (isShim(parent)) return true;
      seen.add(pid);
      pid = parent.ppid;
    }
    return false;
  };
  return procs
    .filter((p) => p.argv[1] === 'init' && p.stateDir)
    .map((p) => ({
      pid: p.pid,
      startTime: p.startTime,
      stateDir: p.stateDir ?? '',
      supervised: supervised(p),
    }));
}

/**
 * The `runc init`s to kill: no shim above them, a state dir directly under one of `stateRoots`, and neither
 * their container id nor their pid known to anyone. Anything in doubt is kept.
 */
export function findRuncOrphans(procs: readonly ProcEntry[], q: OrphanQuery): RuncOrphan[] {
  const roots = new Set(q.stateRoots.map((r) => resolve(r)));
  return runcInits(procs).flatMap((init) => {
    if (init.supervised || q.knownPids.has(init.pid)) return [];
    const dir = resolve(init.stateDir);
    const id = basename(dir);
    if (!roots.has(dirname(dir)) || q.knownIds.has(id)) return [];
    return [{ pid: init.pid, startTime: init.startTime, stateDir: init.stateDir, id }];
  });
}

/** One /proc entry from its files' contents; `environ` only when asked for (an `init`). */
export function parseProcEntry(pid: number, stat: string, cmdline: string, environ?: string): ProcEntry {
  // The command name in stat may hold spaces and parentheses: the fields after the last ')' start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const argv = cmdline.split('\0');
  if (argv.at(-1) === '') argv.pop();
  const state = environ
    ?.split('\0')
    .find((v) => v.startsWith('_LIBCONTAINER_STATEDIR='))
    ?.slice('_LIBCONTAINER_STATEDIR='.length);
  return {
    pid,
    ppid: Number(fields[1]),
    startTime: Number(fields[19]),
    argv,
    ...(state ? { stateDir: state } : {}),
  };
}

/** Reads one process, or undefined when it vanished (or cannot be read) meanwhile. */
function readEntry(procDir: string, pid: number): ProcEntry | undefined {
  try {
    const dir = join(procDir, String(pid));
    const stat = readFileSync(join(dir, 'stat'), 'utf8');
    const cmdline = readFileSync(join(dir, 'cmdline'), 'utf8');
    const init = cmdline.split('\0')[1] === 'init';
    return parseProcEntry(pid, stat, cmdline, init ? readFileSync(join(dir, 'environ'), 'utf8') : undefined);
  } catch {
    return undefined;
  }
}

/** Every process of `procDir` (one pass; processes that vanish while being read are left out). */
export function readProcEntries(procDir = '/proc'): ProcEntry[] {
  return readdirSync(procDir)
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => readEntry(procDir, Number(e)) ?? []);
}

/** SIGKILLs `p` if it is still the process of the snapshot (same start time: its pid was not reused) and `same`. */
function killIfSame(
  procDir: string,
  p: Pick<ProcEntry, 'pid' | 'startTime'>,
  same: (now: ProcEntry) => boolean = () => true,
): boolean {
  const now = readEntry(procDir, p.pid);
  if (now?.startTime !== p.startTime || !same(now)) return false;
  try {
    process.kill(p.pid, 'SIGKILL');
    return true;
  } catch {
    return false; // gone meanwhile
  }
}

/** SIGKILLs each orphan that is still the same process (start time and state dir); the ones killed. */
export function killRuncOrphans(orphans: readonly RuncOrphan[], procDir = '/proc'): RuncOrphan[] {
  return orphans.filter((o) => killIfSame(procDir, o, (now) => now.stateDir === o.stateDir));
}

/** SIGKILLs each process that is still the one of the snapshot. */
export function killProcesses(
  procs: readonly Pick<ProcEntry, 'pid' | 'startTime'>[],
  procDir = '/proc',
): void {
  for (const p of procs) killIfSame(procDir, p);
}

/**
 * A `runc create` that got as far as its state.json left that and the container's cgroups: `runc delete --force`
 * (runc's state format: the process was a `runc init`) removes both, now that the init is dead.
 */
export async function deleteRuncState(o: RuncOrphan): Promise<{ stateLeft?: string }> {
  if (!existsSync(join(o.stateDir, 'state.json'))) return {};
  try {
    const r = await runCommand(
      'runc',
      ['--root', dirname(o.stateDir), ...deleteArgs(o.id, { force: true })],
      {
        timeoutMs: 10_000,
      },
    );
    return r.code === 0 ? {} : { stateLeft: r.stderr.trim() || r.error?.message || `exit ${r.code}` };
  } catch (err) {
    return { stateLeft: (err as Error).message }; // an id runc would not take
  }
}
