/**
 * After a restart, nothing berth started before may keep running unsupervised: every container found under a
 * `runtime-*` state root of the exec root is killed and deleted, with the runtime that owns the root (or
 * the default invocation for a root whose runtime is no longer configured: runtimes/leftovers.ts), except those
 * the caller spares for adoption.
 *
 * @module
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, ReconcileOptions } from '../executor/index.ts';
import { leftoverHandle, type RuntimeSet } from '../runtimes/index.ts';

export interface ReconcileReport {
  /** Container ids removed, per runtime root. */
  readonly removed: Record<string, string[]>;
  /** Roots that could not be listed, with the runtime's message. */
  readonly failed: Record<string, string>;
}

export async function reconcileRuntimeRoots(
  execRoot: string,
  set: RuntimeSet,
  executor: Executor,
  o: ReconcileOptions = {},
): Promise<ReconcileReport> {
  let entries: string[];
  try {
    entries = readdirSync(execRoot).filter((e) => e.startsWith('runtime-'));
  } catch {
    return { removed: {}, failed: {} };
  }
  const report: ReconcileReport = { removed: {}, failed: {} };
  await Promise.all(
    entries.map(async (entry) => {
      const name = entry.slice('runtime-'.length);
      const root = join(execRoot, entry);
      try {
        const ids = await executor.reconcile(leftoverHandle(set, name, root), o);
        if (ids.length) report.removed[name] = ids;
      } catch (err) {
        report.failed[name] = (err as Error).message;
      }
    }),
  );
  return report;
}
