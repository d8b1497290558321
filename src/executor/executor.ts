/**
 * The seam between what decides to run containers (the plugin supervisor, `berth run`, the startup reconcile)
 * and what runs them. Callers hold a runtime handle made by the runtime registry and pass it back unread, so a
 * second executor (containerd shims, say) slots in beside {@link RuncExecutor} without touching them.
 *
 * @module
 */
import type { Readable } from 'node:stream';

/** How an executor invokes one runtime. Made by the runtime registry; only the executor reads what is inside. */
export interface RuntimeHandle {
  readonly binary: string;
}

/** How a container ended. `code` follows the shell convention: 128 + n when killed by signal n. */
export interface ExitStatus {
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly at: Date;
  /** Set when the runtime could not even be started (e.g. its binary is gone). */
  readonly error?: string;
  /** The kernel's OOM killer killed a process of the container (read from its cgroup, never guessed from 137). */
  readonly oomKilled?: boolean;
}

/** A container started by an executor. */
export interface RunningContainer<Handle extends RuntimeHandle = RuntimeHandle> {
  readonly id: string;
  /** The runtime it was started with: later kill/delete use the same one, whatever reloads happen. */
  readonly runtime: Handle;
  /**
   * pid of the runtime process (`runc run`, a shim), not of the container init; -1 until it is known (through
   * berth-spawner the pid arrives a moment after `start` returns, always before the container can answer).
   */
  readonly runtimePid: number;
  /** Resolves when the container has exited and the runtime has cleaned it up. */
  readonly exited: Promise<ExitStatus>;
  /** The container's output, when started with `output: 'pipe'`. */
  readonly stdout?: Readable;
  readonly stderr?: Readable;
}

/** Where a container's stdout and stderr go (the output sink): appended to a log file, or pipes the caller reads. */
export type ContainerOutput = { readonly logPath: string } | 'pipe';

/** What the runtime knows about a container. */
export interface ContainerState {
  readonly id: string;
  readonly pid: number;
  readonly status: string;
  readonly bundle: string;
  readonly created?: string;
}

export interface ReconcileOptions {
  /** Containers the caller may adopt next (live restore): left alone when this executor could adopt them. */
  readonly spare?: (c: ContainerState) => boolean;
}

export interface Executor<Handle extends RuntimeHandle = RuntimeHandle> {
  /**
   * Starts `bundle` as container `id`; the exit is {@link RunningContainer.exited}.
   * @throws {ConflictError} when this executor already runs a container with that id
   */
  start(
    runtime: Handle,
    id: string,
    bundle: string,
    output: ContainerOutput,
    /** What the container is for (`berth.kind`, `berth.plugin.id`): kept by executors that can label. */
    labels?: Readonly<Record<string, string>>,
  ): RunningContainer<Handle>;
  /** SIGTERM, then SIGKILL after `graceMs`; the exit status when this executor started it, else undefined. */
  stop(runtime: Handle, id: string, graceMs: number): Promise<ExitStatus | undefined>;
  /** Sends a signal to the container's init. */
  kill(runtime: Handle, id: string, signal: NodeJS.Signals): Promise<void>;
  /** Kills a container this executor started, whatever stage it is in, and deletes it once it has exited. */
  destroy(container: RunningContainer<Handle>, giveUpMs?: number): Promise<ExitStatus>;
  /** Deletes a stopped container's state (`force` also kills a running one). */
  delete(runtime: Handle, id: string, o?: { force?: boolean }): Promise<void>;
  /** @throws {NotFoundError} when the runtime does not know the container */
  state(runtime: Handle, id: string): Promise<ContainerState>;
  /** Every container the runtime knows under its state root. */
  list(runtime: Handle): Promise<ContainerState[]>;
  /** Containers this executor started that are still running. */
  running(): ReadonlyMap<string, RunningContainer<Handle>>;
  /** Removes what a previous berthd left under the runtime's root (containers this one did not start); their ids. */
  reconcile(runtime: Handle, o?: ReconcileOptions): Promise<string[]>;
  /** Kills every container this executor started (daemon shutdown) and waits for them to end. */
  killAll(): Promise<void>;
  /**
   * Live restore: supervises a container a previous berthd started that still runs, same pid, its output read
   * again (containerd's shims; runc's `run` kept by berth-spawner); undefined when there is none to take over.
   */
  adopt?(runtime: Handle, id: string): Promise<RunningContainer<Handle> | undefined>;
}
