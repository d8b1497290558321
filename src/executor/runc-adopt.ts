/**
 * What adopting a runc container needs besides runc itself. Its init is not berthd's child: berth-spawner watches
 * it through a pidfd, opened first and checked after (`runc list` names the pid as the container's running init
 * only while runc's recorded start time matches, so a pid reused before the pidfd opened is never taken for it).
 * The `runc run` a previous berthd started still waits for that init, and deletes the container once it exits:
 * the adoption ends only after that process ends too, so a restart never races its delete. Its output pipes
 * are read again through /proc (berth-spawner opened them read-write, so they never broke meanwhile).
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ContainerState } from './executor.ts';
import type { WatchedProcess } from './spawner.ts';

/**
 * One `runc list` per state root shared by every caller that asks while it runs (a restore adopts 100 plugins
 * at once), but never one begun before `since`: a check made after a pidfd opened needs a list begun after it.
 */
export class SharedLists {
  readonly #current = new Map<
    string,
    { begun: number; list: Promise<ReadonlyMap<string, ContainerState>> }
  >();

  /** The containers `list` finds under `root`, by id, from a list begun at `since` or later. */
  since(
    root: string,
    since: number,
    list: () => Promise<ContainerState[]>,
  ): Promise<ReadonlyMap<string, ContainerState>> {
    const now = this.#current.get(root);
    if (now && now.begun >= since) return now.list;
    const entry = {
      begun: performance.now(),
      list: list().then((all) => new Map(all.map((c) => [c.id, c]))),
    };
    this.#current.set(root, entry);
    const forget = () => {
      if (this.#current.get(root) === entry) this.#current.delete(root);
    };
    entry.list.then(forget, forget);
    return entry.list;
  }
}

/** argv of a process, or undefined once it is gone. */
function argvOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a foreground `<runtime> … run … <id>`: the process that waits for the container's init. */
export function isRunOf(pid: number, id: string): boolean {
  const argv = argvOf(pid);
  return argv?.includes('run') === true && argv.at(-1) === id;
}

/** The parent pid of `pid` (its status file's PPid), or undefined once it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A watch whose pidfd is open and whose process `stillMeant` confirms; else cancelled, and undefined. */
export async function confirmedWatch(
  watch: WatchedProcess,
  stillMeant: (openedAt: number) => boolean | Promise<boolean>,
): Promise<WatchedProcess | undefined> {
  let openedAt: number;
  try {
    openedAt = await watch.watching;
  } catch {
    return undefined; // gone already, or no pidfd on this kernel
  }
  if (await stillMeant(openedAt)) return watch;
  watch.cancel();
  return undefined;
}

/**
 * The pipe a process's `fd` writes to, opened again for reading (`/proc/<pid>/fd/<fd>`); undefined when it is not
 * a pipe (output appended to a log file needs no reader) or the process is gone.
 */
export function reopenOutput(pid: number, fd: 1 | 2): Readable | undefined {
  let read: number;
  try {
    read = openSync(`/proc/${pid}/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  if (!fstatSync(read).isFIFO()) {
    closeSync(read);
    return undefined;
  }
  return new Socket({ fd: read, readable: true, writable: false });
}
