/**
 * What a dead berthd leaves in containerd besides its containers: `runc init`s that a shim dying mid `runc create`
 * left blocked (executor/runc-orphans.ts), and what containerd leaves of a create cut by the kill: tasks whose
 * record the reconcile deleted first, and shims it forgot (executor/containerd-leaks.ts). Those appear when
 * containerd is done with that create, which may be after the reconcile: so the sweep runs again
 * {@link RECHECK_AFTER_MS} after it, and a last time when berthd stops.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { ContainerdExecutor, SweepReport } from '../executor/index.ts';

/** After the reconcile: a create in flight ends within containerd's shim start timeouts, even on a loaded node. */
export const RECHECK_AFTER_MS: readonly number[] = [2000, 10_000, 30_000];

/** A containerd that does not answer must not hold the stop for its calls' own 10 s deadlines. */
const LAST_SWEEP_MS = 3000;

export class ContainerdCleanup {
  readonly #executor: ContainerdExecutor;
  readonly #log: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #roots: readonly string[] = [];
  #sweeping: Promise<void> | undefined;
  #reconciled = false;
  /** Stopped: a reconcile still in flight arms nothing and sweeps no more (the client is closed after). */
  #closed = false;

  constructor(executor: ContainerdExecutor, log: Logger) {
    this.#executor = executor;
    this.#log = log;
  }

  /**
   * Removes the containers a dead berthd left (their ids), then what cut creates left and orphaned inits under
   * `runcRoots`; arms the rechecks.
   */
  async afterRestore(runcRoots: readonly string[]): Promise<string[]> {
    this.#roots = runcRoots;
    const removed = await this.#executor.reconcile();
    this.#reconciled = true;
    await this.sweep();
    if (!this.#closed) this.#arm();
    return removed;
  }

  /** One executor sweep (what cut creates left, orphaned inits), each removal logged. */
  sweep(): Promise<void> {
    if (this.#closed) return this.#sweeping ?? Promise.resolve();
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /**
   * Cancels the rechecks and sweeps a last time (once the reconcile ran), waiting for it {@link LAST_SWEEP_MS} at
   * most; nothing sweeps after it.
   */
  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const last = this.#reconciled ? this.sweep() : undefined;
    this.#closed = true;
    if (!last) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, LAST_SWEEP_MS);
    });
    await Promise.race([last, late]).finally(() => clearTimeout(timer));
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
    let report: SweepReport;
    try {
      report = await this.#executor.sweep(this.#roots);
    } catch (err) {
      this.#log.warn(
        `containerd: cannot look for what dead shims and cut creates left: ${(err as Error).message}`,
      );
      return;
    }
    for (const id of report.tasks)
      this.#log.warn(
        { id },
        `containerd: removed task ${id}, whose container record went while it was created`,
      );
    for (const f of report.failed)
      this.#log.warn(
        { id: f.id },
        `containerd: cannot remove task ${f.id}, which has no container record: ${f.error}`,
      );
    for (const id of report.shims)
      this.#log.warn({ id }, `containerd: killed the shim of ${id}, which containerd no longer knows`);
    for (const o of report.orphans)
      this.#log.warn(
        { pid: o.pid, stateDir: o.stateDir },
        `containerd: killed runc init ${o.pid} of container ${o.id}, which no shim runs any more (state dir ${o.stateDir}${o.stateLeft ? `, left: ${o.stateLeft}` : ''})`,
      );
  }
}
