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
 * The decisions are pure ({@link staleTasks}, {@link leakedShims}, {@link leakedBundleOf}); {@link sweepNamespace}
 * (the executor's sweep, with the orphaned inits of runc-orphans.ts) and {@link clearCutCreate} (a create in the
 * way) act on them. A sweep reads /proc, then the tasks, then the records: a shim's record is made before the
 * shim, a task's before the task, so an in-flight create of any owner is never taken for a leak.
 *
 * @module
 */
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerdClient, TaskInfo } from '../containerd/index.ts';
import { ConflictError, NotFoundError, SystemError } from '../errdefs/index.ts';
import {
  deleteRuncState,
  findRuncOrphans,
  isShim,
  killProcesses,
  killRuncOrphans,
  type ProcEntry,
  type RuncOrphan,
  readProcEntries,
} from './runc-orphans.ts';

/** What the executor's sweep removed: stale tasks' and forgotten shims' ids, orphaned inits. */
export interface SweepReport {
  readonly tasks: readonly string[];
  /** Stale tasks that could not be removed, with why (the sweep goes on with the rest). */
  readonly failed: readonly { readonly id: string; readonly error: string }[];
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

/** The stale tasks' removals as a sweep reports them: the ids removed, and those that failed with why. */
export function staleOutcomes(
  stale: readonly TaskInfo[],
  results: readonly PromiseSettledResult<boolean>[],
): Pick<SweepReport, 'tasks' | 'failed'> {
  const tasks: string[] = [];
  const failed: { id: string; error: string }[] = [];
  stale.forEach((t, i) => {
    const r = results[i];
    if (r?.status === 'rejected') failed.push({ id: t.id, error: (r.reason as Error).message });
    else if (r?.value) tasks.push(t.id);
  });
  return { tasks, failed };
}

/** A shim process: `containerd-shim-* -namespace <ns> -id <id> …`. */
function shimOf(p: ProcEntry): { namespace: string; id: string } | undefined {
  if (!isShim(p)) return undefined;
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
 * Reaches the stale task through a record made for it (with `labels`), clears it and removes that record. False
 * when a record with its id exists (again) meanwhile, or the id now names another task: then it is left alone.
 */
export async function removeStaleTask(
  client: ContainerdClient,
  stale: TaskInfo,
  labels: Readonly<Record<string, string>>,
): Promise<boolean> {
  const { id } = stale;
  try {
    await client.createContainer({ id, labels: { ...labels }, runtime: { name: ANY_RUNTIME }, spec: {} });
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
  try {
    if ((await client.getTask(id))?.pid !== stale.pid) return false;
    await clearTask(client, id);
    return true;
  } finally {
    await client.deleteContainer(id);
  }
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

/**
 * One sweep of the namespace from one snapshot, read in the order the module's text gives: tasks without a record
 * removed (through a record with `labels`), shims containerd forgot killed with what runs below them, and the
 * `runc init`s under no shim below `runcRoots` killed and their runc state deleted (runc-orphans.ts). `running`:
 * the containers this berthd starts or runs, left alone.
 */
export async function sweepNamespace(
  client: ContainerdClient,
  o: {
    readonly runcRoots: readonly string[];
    readonly labels: Readonly<Record<string, string>>;
    readonly running: () => ReadonlyMap<string, { readonly runtimePid: number }>;
  },
): Promise<SweepReport> {
  // Busy before the lists too: a container that ends meanwhile deletes its task and record, then leaves.
  const busy = new Set(o.running().keys());
  const procs = readProcEntries();
  const tasks = await client.listTasks();
  const records = new Set((await client.listContainers()).map((c) => c.id));
  for (const id of o.running().keys()) busy.add(id);
  const stale = staleTasks(tasks, records, busy);
  const removed = await Promise.allSettled(stale.map((t) => removeStaleTask(client, t, o.labels)));
  const known = new Set([...tasks.map((t) => t.id), ...records, ...busy]);
  const shims = leakedShims(procs, client.namespace, known);
  for (const s of shims) killProcesses(s.pids);
  const orphans = findRuncOrphans(procs, {
    stateRoots: o.runcRoots.map((r) => join(r, client.namespace)),
    knownIds: known,
    knownPids: new Set([...tasks.map((t) => t.pid), ...[...o.running().values()].map((c) => c.runtimePid)]),
  });
  return {
    ...staleOutcomes(stale, removed),
    shims: shims.map((s) => s.id),
    orphans: await Promise.all(
      killRuncOrphans(orphans).map(async (r) => ({ ...r, ...(await deleteRuncState(r)) })),
    ),
  };
}
