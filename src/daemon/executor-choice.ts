/**
 * Which executor berthd runs containers with: runc directly (the embedded default), or containerd with
 * `--containerd` (moby 24+'s mapping of the runtime registry onto shims). Each comes with the registry view its
 * callers use and its own way to clean up what a dead berthd left.
 *
 * @module
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ContainerdClient } from '../containerd/index.ts';
import { InvalidParameterError, UnavailableError } from '../errdefs/index.ts';
import {
  ContainerdExecutor,
  closeSharedSpawner,
  type Executor,
  type ExitStatus,
  RuncExecutor,
  releaseUnclaimedSurvivors,
  runcRootOf,
  useRendezvous,
} from '../executor/index.ts';
import {
  containerdRuntimeOf,
  type RunnableRuntimes,
  type RuntimeManager,
  type RuntimeSet,
  type ShimRuntime,
  underContainerd,
} from '../runtimes/index.ts';
import type { DaemonConfig } from './config.ts';
import { ContainerdCleanup } from './containerd-cleanup.ts';
import { type ReconcileReport, reconcileRuntimeRoots } from './reconcile.ts';

export type ReconcileStage = 'before-restore' | 'after-restore';

const NOTHING: ReconcileReport = { removed: {}, failed: {} };

export interface ExecutorChoice {
  readonly executor: Executor;
  /** The registry as this executor's callers (plugin supervisor, runs) see it. */
  readonly runtimes: RunnableRuntimes;
  /** `runc` or `containerd <socket> (namespace <ns>)`, for the log and `/info`. */
  readonly description: string;
  /**
   * Before anything is spawned: takes over what a previous berthd left running for this one (runc: the `runc
   * run` processes berth-spawner kept). What it found, for the log.
   */
  reattach(): Promise<string>;
  /**
   * Removes containers a previous berthd left: before the restore those that cannot be adopted, after it those
   * that were not.
   */
  reconcile(set: RuntimeSet, stage: ReconcileStage): Promise<ReconcileReport>;
  /** The smoke run of a shim runtime (runtime probes), through this executor. */
  shimSmoke(rt: ShimRuntime, bundle: string, id: string, timeoutMs: number): Promise<ExitStatus>;
  /** containerd's version (`ContainerdCommit`), when it is the executor and reachable. */
  containerdVersion(): Promise<{ version: string; revision: string } | undefined>;
  /** After the executor is done with: what is still due in the background is finished or cancelled. */
  close(): Promise<void> | void;
}

/**
 * containerd answers, or an {@link UnavailableError} saying why. A containerd that just restarted takes a moment
 * to be reconnected (calls fail at once meanwhile): ask again for up to two seconds.
 */
async function reachable(client: ContainerdClient, socket: string): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      await client.version(1000);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new UnavailableError(`containerd at ${socket} does not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Concurrent callers share one call of `f`, and a caller after it settled makes a new one: a hundred plugins
 * restored at once ask containerd whether it answers once, not a hundred times, and nobody gets a stale answer.
 */
function shared<T>(f: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= f().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/**
 * runc driven directly. berth-spawner's rendezvous socket in the exec root lets it outlive berthd with the
 * plugins' `runc run` processes and hand them to the next berthd; before the restore only the containers that are
 * not plugins kept that way are removed (`berth run` workloads, containers whose `runc run` is gone), after it
 * those the restore did not adopt.
 */
function runcChoice(config: DaemonConfig, runtimes: RuntimeManager, log: Logger): ExecutorChoice {
  const executor = new RuncExecutor();
  const pluginBundles = `${join(config.execRoot, 'plugin-bundles')}/`;
  let survivors = 0;
  return {
    executor,
    runtimes,
    description: 'runc',
    reattach: async () => {
      const found = await useRendezvous(join(config.execRoot, 'spawner.sock'));
      if (found.kind === 'unavailable' && config.liveRestore)
        throw new InvalidParameterError(
          `live-restore with the runc executor needs berth-spawner (${found.why}): build it with scripts/setup.sh, or use --containerd`,
        );
      if (found.kind === 'unavailable') return `no plugin outlives berthd: ${found.why}`;
      if (found.kind === 'attached') {
        survivors = found.survivors;
        return `berth-spawner kept ${survivors} processes of the previous berthd`;
      }
      // Its plugins' containers are not adopted: the reconcile deletes them and the restore starts them again.
      if (found.replaced)
        log.warn(
          `berth-spawner not taken over (${found.replaced}): the plugins it kept running are restarted`,
        );
      return 'berth-spawner started: plugins outlive a berthd that dies (or stops with --live-restore)';
    },
    reconcile: async (set, stage) => {
      if (stage === 'before-restore')
        return reconcileRuntimeRoots(config.execRoot, set, executor, {
          spare: (c) => c.bundle.startsWith(pluginBundles),
        });
      if (!survivors) return NOTHING;
      const report = await reconcileRuntimeRoots(config.execRoot, set, executor);
      releaseUnclaimedSurvivors();
      return report;
    },
    containerdVersion: async () => undefined,
    shimSmoke: async () => ({
      code: 127,
      signal: null,
      at: new Date(),
      error: 'shims need the containerd executor',
    }),
    close: closeSharedSpawner,
  };
}

/**
 * The runc roots berth's shims may have used: each runtime's of `set`, and every `<exec-root>/runtime-*` (a runtime
 * removed from the configuration since may still have left something there).
 */
function runcRoots(execRoot: string, set: RuntimeSet): string[] {
  const roots = new Set<string>();
  for (const rt of set.runtimes.values()) {
    const root = runcRootOf(containerdRuntimeOf(rt));
    if (root) roots.add(root);
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(execRoot).filter((e) => e.startsWith('runtime-'));
  } catch {
    // no exec root yet
  }
  for (const e of entries) roots.add(join(execRoot, e));
  return [...roots];
}

export function chooseExecutor(config: DaemonConfig, runtimes: RuntimeManager, log: Logger): ExecutorChoice {
  const ctrd = config.containerd;
  if (!ctrd) return runcChoice(config, runtimes, log);
  const client = new ContainerdClient(ctrd.socket, ctrd.namespace);
  // One berthd's containers in a namespace it may share: its data root says which are its own.
  const executor = new ContainerdExecutor(client, {
    fifoDir: join(config.execRoot, 'containerd-fifo'),
    owner: config.dataRoot,
  });
  const reachableNow = shared(() => reachable(client, ctrd.socket));
  const cleanup = new ContainerdCleanup(executor, log);
  return {
    executor,
    runtimes: underContainerd(runtimes, reachableNow),
    description: `containerd ${ctrd.socket} (namespace ${ctrd.namespace})`,
    reattach: async () => 'containerd keeps the tasks',
    // Not the runc roots' containers: under containerd they belong to the shims (only a runc init no shim runs
    // any more is killed there). Before the restore, every running task may be adopted.
    reconcile: async (set, stage) => {
      if (stage === 'before-restore') return NOTHING;
      let removed: string[];
      try {
        removed = await cleanup.afterRestore(runcRoots(config.execRoot, set));
      } catch (err) {
        log.warn(`containerd: cannot list leftovers: ${(err as Error).message}`);
        return { removed: {}, failed: { containerd: (err as Error).message } };
      }
      return { removed: removed.length ? { containerd: removed } : {}, failed: {} };
    },
    containerdVersion: () => client.version(2000).catch(() => undefined),
    shimSmoke: async (rt, bundle, id, timeoutMs) => {
      await reachable(client, ctrd.socket);
      const c = executor.start(containerdRuntimeOf(rt), id, bundle, 'pipe', { 'berth.kind': 'probe' });
      c.stdout?.resume();
      c.stderr?.resume();
      const late = setTimeout(() => void executor.destroy(c), timeoutMs);
      try {
        return await c.exited;
      } finally {
        clearTimeout(late);
      }
    },
    close: async () => {
      await cleanup.close();
      client.close();
    },
  };
}
