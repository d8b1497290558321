/**
 * After a restart, nothing berth started before may keep running unsupervised: every container found under a
 * `runtime-*` state root of the exec root is killed and deleted, with the runtime that owns the root (or
 * the default invocation for a root whose runtime is no longer configured: runtimes/leftovers.ts).
 *
 * The roots are listed first (one runtime call each), then the leftovers are deleted in parallel; {@link
 * Reconciling.gone} lets the restart of one plugin wait for its own container's delete only, instead of for all
 * of them (a `runc delete --force` of a running container sleeps 100 ms in runc before it checks the kill).
 *
 * @module
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor } from '../executor/index.ts';
import { leftoverHandle, type RuntimeSet } from '../runtimes/index.ts';

export interface ReconcileReport {
  /** Container ids removed, per runtime root. */
  readonly removed: Record<string, string[]>;
  /** Roots that could not be listed or cleaned, with the runtime's message. */
  readonly failed: Record<string, string>;
}

/** A reconcile under way. */
export interface Reconciling {
  /**
   * Settles (never rejects) once every root is listed and no leftover with this id is left to delete: a
   * container of that id may be started from then on without meeting a dead berthd's one.
   */
  gone(id: string): Promise<void>;
  /** The report, once every root is listed and every leftover deleted (or its delete failed). */
  readonly done: Promise<ReconcileReport>;
}

/**
 * The leftovers of one root: listed, then deleted in parallel, each delete's promise kept by container id.
 * `listed` is called once the deletes are registered, or once the list failed.
 */
async function reconcileRoot(
  executor: Executor,
  handle: ReturnType<typeof leftoverHandle>,
  deletes: Map<string, Promise<unknown>[]>,
  listed: () => void,
): Promise<string[]> {
  let pending: Promise<void>[];
  let ids: string[];
  try {
    const mine = executor.running();
    ids = (await executor.list(handle)).map((c) => c.id).filter((id) => !mine.has(id));
    pending = ids.map((id) => {
      const p = executor.delete(handle, id, { force: true });
      deletes.set(id, [...(deletes.get(id) ?? []), p.catch(() => undefined)]);
      return p;
    });
  } finally {
    listed();
  }
  await Promise.all(pending);
  return ids;
}

export function startReconcile(execRoot: string, set: RuntimeSet, executor: Executor): Reconciling {
  let entries: string[] = [];
  try {
    entries = readdirSync(execRoot).filter((e) => e.startsWith('runtime-'));
  } catch {
    // no exec root yet: nothing was left
  }
  const report: ReconcileReport = { removed: {}, failed: {} };
  const deletes = new Map<string, Promise<unknown>[]>();
  const listed: Promise<void>[] = [];
  const roots = entries.map((entry) => {
    const name = entry.slice('runtime-'.length);
    let ready: () => void = () => undefined;
    listed.push(new Promise<void>((r) => (ready = r)));
    return reconcileRoot(executor, leftoverHandle(set, name, join(execRoot, entry)), deletes, () => ready())
      .then((ids) => {
        if (ids.length) report.removed[name] = ids;
      })
      .catch((err: Error) => {
        report.failed[name] = err.message;
      });
  });
  const allListed = Promise.all(listed);
  return {
    gone: async (id) => {
      await allListed;
      await Promise.all(deletes.get(id) ?? []);
    },
    done: Promise.all(roots).then(() => report),
  };
}
