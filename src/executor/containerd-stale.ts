/**
 * Tasks whose container record is gone. containerd finishes a `Tasks.Create` whose caller went away: when berthd
 * is killed with a create in flight, the next berthd's reconcile may delete the record (it has no task yet) before
 * the task appears. That task then lives on — a shim, and a `runc init` blocked on its exec FIFO — where no Tasks
 * call reaches it (containerd finds a task through its record), and every later create with that id fails
 * ("failed to start shim: mkdir …: file exists", "already exists"). A record made again under the same id reaches
 * it: then it is killed and deleted like any other task, and that record removed.
 *
 * {@link staleTasks} decides (pure); {@link removeStaleTask} and {@link clearTask} are the calls.
 *
 * @module
 */
import type { ContainerdClient, TaskInfo } from '../containerd/index.ts';
import { ConflictError, NotFoundError } from '../errdefs/index.ts';

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
