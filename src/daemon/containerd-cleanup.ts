/**
 * What a dead berthd leaves in containerd besides its containers: `runc init`s that a shim dying mid `runc create`
 * left blocked (executor/runc-orphans.ts), and tasks whose record the reconcile deleted while the dead berthd's
 * create of them was still in flight (executor/containerd-stale.ts). The second kind appears only after the
 * reconcile, when containerd finishes that create: so when the reconcile removed a container that had no task,
 * the sweep runs again {@link RECHECK_AFTER_MS} later, and a last time when berthd stops.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { ContainerdExecutor } from '../executor/index.ts';

/** After the reconcile: a create in flight ends within containerd's shim start timeouts, even on a loaded node. */
export const RECHECK_AFTER_MS: readonly number[] = [2000, 10_000, 30_000];

export class ContainerdCleanup {
  readonly #executor: ContainerdExecutor;
  readonly #log: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #roots: readonly string[] = [];
  #sweeping: Promise<void> | undefined;

  constructor(executor: ContainerdExecutor, log: Logger) {
    this.#executor = executor;
    this.#log = log;
  }

  /**
   * Removes the containers a dead berthd left (their ids), then stale tasks and orphaned inits under `runcRoots`;
   * arms the rechecks when a removed container had no task.
   */
  async afterRestore(runcRoots: readonly string[]): Promise<string[]> {
    this.#roots = runcRoots;
    const { removed, taskless } = await this.#executor.removeLeftovers();
    await this.sweep();
    if (taskless.length) this.#arm();
    return removed;
  }

  /** Stale tasks, then orphaned inits (a stale task's init goes with its task): each removal logged. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Cancels the rechecks; if one was still due, sweeps a last time. */
  async close(): Promise<void> {
    const due = this.#timers.size > 0;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (due) await this.sweep();
  }

  #arm(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const ms of RECHECK_AFTER_MS) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        void this.sweep();
      }, ms);
      timer.unref();
      this.#timers.add(timer);
    }
  }

  async #sweepOnce(): Promise<void> {
    try {
      for (const id of await this.#executor.removeStaleTasks())
        this.#log.warn(
          { id },
          `containerd: removed task ${id}, whose container record was deleted while it was being created (a create of a killed berthd)`,
        );
    } catch (err) {
      this.#log.warn(`containerd: cannot look for tasks without a container: ${(err as Error).message}`);
    }
    try {
      for (const o of await this.#executor.sweepOrphans(this.#roots))
        this.#log.warn(
          { pid: o.pid, stateDir: o.stateDir },
          `containerd: killed runc init ${o.pid} of container ${o.id}, which no shim runs any more (state dir ${o.stateDir}${o.stateLeft ? `, left: ${o.stateLeft}` : ''})`,
        );
    } catch (err) {
      this.#log.warn(`containerd: cannot look for orphaned runc init processes: ${(err as Error).message}`);
    }
  }
}
