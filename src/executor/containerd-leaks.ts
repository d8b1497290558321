/**
 * What containerd (1.6 here) leaves when a `Tasks.Create` is cut: berthd killed with a create in flight.
 *
 * - **A task without a record.** containerd finishes the create, but the next berthd's reconcile deleted the
 *   (task-less) record first. No Tasks call reaches the task any more (containerd finds a task through its
 *   record); a record made again under the same id does: then it is killed and deleted like any other.
 * - **A shim containerd forgot.** The cancelled create's cleanup drops the shim from containerd's list but leaves
 *   it running with its `runc init` (blocked on the exec FIFO), and leaves the bundle directory: every later
 *   create with that id then fails with `failed to start shim: mkdir <state>/…/<namespace>/<id>: file exists`
 *   until containerd restarts (its start-up cleans dead shims' bundles). The shim and what runs below it are
 *   killed; the bundle directory (what containerd's own cleanup would remove) is emptied and removed.
 *
 * The decisions are pure ({@link staleTasks}, {@link leakedShims}, {@link leakedBundleOf}); the executor's sweep
 * and {@link clearCutCreate} (a create in the way) act on them. A sweep reads /proc, then the tasks, then the
 * records: a shim's record is made before the shim, a task's before the task, so an in-flight create of any
 * owner is never taken for a leak.
 *
 * @module
 */
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ContainerdClient, TaskInfo } from '../containerd/index.ts';
import { ConflictError, NotFoundError, SystemError } from '../errdefs/index.ts';
import { killProcesses, type ProcEntry, type RuncOrphan, readProcEntries } from './runc-orphans.ts';

/** What the executor's sweep removed: stale tasks' and forgotten shims' ids, orphaned inits. */
export interface SweepReport {
  readonly tasks: readonly string[];
  readonly shims: readonly string[];
  readonly orphans: readonly (RuncOrphan & { readonly stateLeft?: string })[];
}

/** containerd's runc shim: any runtime name reaches a task by its id; a record must name one. */
const ANY_RUNTIME = 'io.containerd.runc.v2';
/** A killed task's exit comes at once; a shim that does not report it within this is not waited for longer. */
const EXIT_WAIT_MS = 10_000;

/**
 * The tasks no container record names, but for those of `busy` (ids a start or a cleanup of this berthd is
 * working on: their record may come or go meanwhile). `tasks` must be listed before `recordIds`: a task created
 * after both lists is not seen, and one whose record was created after the task list cannot be in it.
 */
export function staleTasks(
  tasks: readonly TaskInfo[],
  recordIds: ReadonlySet<string>,
  busy: ReadonlySet<string>,
): TaskInfo[] {
  return tasks.filter((t) => !recordIds.has(t.id) && !busy.has(t.id));
}

/** A shim process: `containerd-shim-* -namespace <ns> -id <id> …`. */
function shimOf(p: ProcEntry): { namespace: string; id: string } | undefined {
  if (!basename(p.argv[0] ?? '').startsWith('containerd-shim')) return undefined;
  const flag = (name: string) => {
    const i = p.argv.indexOf(name);
    return i > 0 ? p.argv[i + 1] : undefined;
  };
  const [namespace, id] = [flag('-namespace'), flag('-id')];
  return namespace && id ? { namespace, id } : undefined;
}

/**
 * The shims of `namespace` whose id `known` does not hold (no task, no record, no start of this berthd: listed
 * after those), each with every process below it, deepest first: what to kill.
 */
export function leakedShims(
  procs: readonly ProcEntry[],
  namespace: string,
  known: ReadonlySet<string>,
): { id: string; pids: ProcEntry[] }[] {
  const children = new Map<number, ProcEntry[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const tree = (p: ProcEntry): ProcEntry[] => [...(children.get(p.pid) ?? []).flatMap(tree), p];
  return procs.flatMap((p) => {
    const shim = shimOf(p);
    if (shim?.namespace !== namespace || known.has(shim.id)) return [];
    return [{ id: shim.id, pids: tree(p) }];
  });
}

/** The bundle directory a create's error names as in the way (`mkdir <dir>: file exists`), if it is `id`'s. */
export function leakedBundleOf(message: string, namespace: string, id: string): string | undefined {
  const dir = /mkdir (\/.*): file exists/.exec(message)?.[1];
  return dir?.endsWith(`/${namespace}/${id}`) ? dir : undefined;
}

/**
 * Empties and removes a leaked bundle directory: files, FIFOs and links are unlinked, directories (`rootfs`, a
 * mount point) only removed when empty, so nothing mounted there is touched. Throws when something stays.
 */
export function removeLeakedBundle(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) rmdirSync(join(dir, e.name));
    else unlinkSync(join(dir, e.name));
  }
  rmdirSync(dir);
}

/** Kills (SIGKILL, every process) and deletes the task `id`, whose record exists; an absent task is fine. */
export async function clearTask(client: ContainerdClient, id: string): Promise<void> {
  const exited = client.waitTask(id).catch(() => undefined);
  const killed = await client.killTask(id, 9, { all: true }).then(
    () => true,
    (err: unknown) => {
      if (err instanceof NotFoundError) return false; // no task, or it has stopped
      throw err;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  if (killed)
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, EXIT_WAIT_MS)))]).finally(() =>
      clearTimeout(timer),
    );
  await client.deleteTask(id);
}

/**
 * Reaches the stale task `id` through a record made for it (with `labels`), clears it and removes that record.
 * False when a record with that id exists (again) meanwhile: the task is someone's, and left alone.
 */
export async function removeStaleTask(
  client: ContainerdClient,
  id: string,
  labels: Readonly<Record<string, string>>,
): Promise<boolean> {
  try {
    await client.createContainer({ id, labels: { ...labels }, runtime: { name: ANY_RUNTIME }, spec: {} });
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
  try {
    await clearTask(client, id);
  } finally {
    await client.deleteContainer(id);
  }
  return true;
}

/**
 * A Tasks.Create of `id` failed with `err`: when what a cut create left is in the way (a task without its record,
 * or a forgotten shim's bundle), clears it and says so (the create may go on); else false.
 */
export async function clearCutCreate(client: ContainerdClient, id: string, err: Error): Promise<boolean> {
  if (await client.getTask(id).catch(() => undefined)) {
    await clearTask(client, id); // reached through the record this create made
    return true;
  }
  const bundle = leakedBundleOf(err.message, client.namespace, id);
  if (!bundle) return false;
  for (const s of leakedShims(readProcEntries(), client.namespace, new Set()))
    if (s.id === id) killProcesses(s.pids);
  try {
    removeLeakedBundle(bundle);
  } catch (e) {
    throw new SystemError(
      `${err.message} (left by a create cut short, and not removable: ${(e as Error).message})`,
    );
  }
  return true;
}
