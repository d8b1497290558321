/**
 * Containers as containerd containers + tasks (the shim half of seed 004): the bundle's `config.json` is the
 * container's inline spec (no snapshotter, no image), stdout/stderr come through FIFOs, the exit from
 * `Tasks.Wait`, and the Container and Task records are always deleted after a failed create or start (containerd
 * keeps them otherwise). Every container carries berth's labels in berth's namespace, so berth lists, adopts and
 * cleans only what is its own. Tasks outlive berthd: {@link ContainerdExecutor.adopt} supervises them again.
 *
 * @module
 */
import { closeSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { constants as os } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ContainerdClient, TaskExit, TaskInfo } from '../containerd/index.ts';
import { ConflictError, NotFoundError, SystemError, UnavailableError } from '../errdefs/index.ts';
import { type ContainerdHandle, optionsAny, RUNC_SHIM_ROOT, runcRootOf } from './containerd-handle.ts';
import { clearCutCreate, type SweepReport, sweepNamespace } from './containerd-leaks.ts';
import type {
  ContainerOutput,
  ContainerState,
  Executor,
  ExitStatus,
  RunningContainer,
  RuntimeHandle,
} from './executor.ts';
import { openFifo, reopenFifo } from './fifo.ts';
import { readOomKills } from './oom.ts';

export { type ContainerdHandle, runcRootOf } from './containerd-handle.ts';

/** A container this executor runs. */
export type ContainerdContainer = RunningContainer<ContainerdHandle>;

/** The labels every container berth makes carries; `berth.kind` says what for (plugin, run, probe). */
export const OWNER_LABEL = 'berth.owner';

export interface ContainerdExecutorOptions {
  /** Where the stdio FIFOs live (one directory per container), private to this berthd. */
  readonly fifoDir: string;
  /** The value of {@link OWNER_LABEL}: which berthd (data root) owns a container in a shared namespace. */
  readonly owner: string;
}

const signalNumber = (s: NodeJS.Signals): number => os.signals[s] ?? 9;

function specOf(bundle: string): unknown {
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { root?: { path?: string } };
  // containerd takes the root as it is: a relative root (runc's convention) is relative to the bundle, and runc
  // refuses a root reached through a symlink.
  if (spec.root?.path)
    spec.root.path = realpathSync(isAbsolute(spec.root.path) ? spec.root.path : join(bundle, spec.root.path));
  return spec;
}

export class ContainerdExecutor implements Executor<ContainerdHandle> {
  readonly #client: ContainerdClient;
  readonly #o: ContainerdExecutorOptions;
  readonly #running = new Map<string, ContainerdContainer>();
  /** The Tasks.List in flight, shared by the adoptions asking meanwhile (a restore adopts every plugin at once). */
  #taskList: Promise<ReadonlyMap<string, TaskInfo>> | undefined;

  constructor(client: ContainerdClient, o: ContainerdExecutorOptions) {
    this.#client = client;
    this.#o = o;
  }

  /** Starts `bundle` as container `id` with `labels` (plus the owner's); the exit is `exited`. */
  start(
    runtime: ContainerdHandle,
    id: string,
    bundle: string,
    output: ContainerOutput,
    labels: Readonly<Record<string, string>> = {},
  ): ContainerdContainer {
    if (this.#running.has(id)) throw new ConflictError(`container ${id} is already running`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let pid = -1;
    const exited = this.#run(
      runtime,
      id,
      bundle,
      output,
      { ...labels, [OWNER_LABEL]: this.#o.owner },
      {
        stdout,
        stderr,
        started: (p) => {
          pid = p;
        },
      },
    ).finally(() => this.#running.delete(id));
    const container = {
      id,
      runtime,
      get runtimePid() {
        return pid;
      },
      exited,
      ...(output === 'pipe' ? { stdout, stderr } : {}),
    };
    this.#running.set(id, container);
    return container;
  }

  async #run(
    runtime: ContainerdHandle,
    id: string,
    bundle: string,
    output: ContainerOutput,
    labels: Record<string, string>,
    io: { stdout: PassThrough; stderr: PassThrough; started: (pid: number) => void },
  ): Promise<ExitStatus> {
    const dir = join(this.#o.fifoDir, id);
    let created = false;
    try {
      const create = () =>
        this.#client.createContainer({
          id,
          labels,
          runtime: { name: runtime.name, options: optionsAny(runtime) },
          spec: specOf(bundle),
        });
      await create().catch(async (err: unknown) => {
        // A record with this id that this executor does not run is what a killed berthd left (a task that had
        // exited, or was never started): it goes, and the start goes on.
        if (!(err instanceof ConflictError)) throw err;
        await this.delete(runtime, id, { force: true });
        await create();
      });
      created = true;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stdio = await this.#stdio(dir, output, io);
      try {
        await this.#client.createTask(id, stdio).catch(async (err: Error) => {
          // What a create cut short left under this id (containerd-leaks.ts) goes, then this create goes on.
          if (!(await clearCutCreate(this.#client, id, err))) throw err;
          await this.#client.createTask(id, stdio);
        });
      } finally {
        stdio.release();
      }
      const exit = this.#waitExit(id); // before Start: a fast exit is not missed
      exit.catch(() => undefined);
      io.started(await this.#client.startTask(id));
      const status = await exit;
      return this.#exitStatus(runtime, status);
    } catch (err) {
      // The caller reads the reason where it reads a runtime's own complaints: on stderr, then the exit.
      const message = (err as Error).message;
      io.stderr.write(`${message}\n`);
      return { code: 127, signal: null, at: new Date(), error: message };
    } finally {
      await this.#client.deleteTask(id).catch(() => undefined);
      if (created) await this.#client.deleteContainer(id).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      io.stdout.end();
      io.stderr.end();
    }
  }

  /**
   * The exit as the executor reports it, read before the task is deleted (which removes its cgroup): whether the
   * OOM killer struck comes from the cgroup the runc shim's runc state names (`<root>/<namespace>/<id>`).
   */
  #exitStatus(runtime: ContainerdHandle, exit: TaskExit): ExitStatus {
    const root = runcRootOf(runtime) ?? RUNC_SHIM_ROOT;
    const kills = readOomKills(join(root, this.#client.namespace), exit.id);
    return { code: exit.exitStatus, signal: null, at: exit.exitedAt, ...(kills ? { oomKilled: true } : {}) };
  }

  /** FIFOs piped into the caller's streams, or `file://` URIs the shim appends to; `release` after Tasks.Create. */
  async #stdio(
    dir: string,
    output: ContainerOutput,
    io: { stdout: PassThrough; stderr: PassThrough },
  ): Promise<{ stdout: string; stderr: string; release(): void }> {
    if (output !== 'pipe') {
      const uri = `file://${output.logPath}`;
      return { stdout: uri, stderr: uri, release: () => undefined };
    }
    const out = await openFifo(join(dir, 'stdout'));
    const err = await openFifo(join(dir, 'stderr'));
    out.stream.pipe(io.stdout, { end: false });
    err.stream.pipe(io.stderr, { end: false });
    return {
      stdout: join(dir, 'stdout'),
      stderr: join(dir, 'stderr'),
      release: () => {
        closeSync(out.hold);
        closeSync(err.hold);
      },
    };
  }

  /**
   * The task's exit. containerd may restart meanwhile (its shims and tasks live on): a Wait cut by that is asked
   * again, with backoff, until containerd answers.
   */
  async #waitExit(id: string): Promise<TaskExit> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await this.#client.waitTask(id);
      } catch (err) {
        if (!(err instanceof UnavailableError)) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Containers this executor started (or adopted) that are still running. */
  running(): ReadonlyMap<string, ContainerdContainer> {
    return this.#running;
  }

  /** Sends a signal to the task's init. @throws {NotFoundError} when there is no such task */
  async kill(_runtime: ContainerdHandle, id: string, signal: NodeJS.Signals): Promise<void> {
    await this.#client.killTask(id, signalNumber(signal));
  }

  /** SIGTERM, then SIGKILL after `graceMs`; the exit status when this executor runs it, else undefined. */
  async stop(runtime: ContainerdHandle, id: string, graceMs: number): Promise<ExitStatus | undefined> {
    const mine = this.#running.get(id);
    await this.kill(runtime, id, 'SIGTERM').catch(ignoreGone);
    if (!mine) {
      await this.delete(runtime, id, { force: true });
      return undefined;
    }
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([mine.exited, timer])) !== 'timeout') return mine.exited;
    await this.kill(runtime, id, 'SIGKILL').catch(ignoreGone);
    return mine.exited;
  }

  /**
   * Kills a container this executor runs, whatever stage it is in, and waits until it is gone: before its task
   * exists the kill fails, and is retried until it works or the start gives up on its own.
   */
  async destroy(c: ContainerdContainer, giveUpMs = 5000): Promise<ExitStatus> {
    let gone = false;
    void c.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + giveUpMs;
    while (!gone && Date.now() < deadline) {
      if (
        await this.kill(c.runtime, c.id, 'SIGKILL').then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return c.exited;
  }

  /** Deletes a container's task and record (`force` kills a running task first); absent ones are fine. */
  async delete(_runtime: ContainerdHandle, id: string, o: { force?: boolean } = {}): Promise<void> {
    const task = await this.#client.getTask(id);
    if (task && task.status !== 'STOPPED' && task.status !== 'CREATED') {
      if (!o.force) throw new ConflictError(`container ${id} is running: stop it first`);
      const exited = this.#client.waitTask(id);
      await this.#client.killTask(id, signalNumber('SIGKILL')).catch(ignoreGone);
      await exited.catch(() => undefined);
    }
    // Another party (the start's own cleanup, an adopter) may be deleting it at the same time: gone is gone.
    await this.#client.deleteTask(id).catch(async (err: unknown) => {
      if (await this.#client.getTask(id).catch(() => undefined)) throw err;
    });
    await this.#client.deleteContainer(id);
  }

  /** @throws {NotFoundError} when berth's namespace has no such task */
  async state(_runtime: ContainerdHandle, id: string): Promise<ContainerState> {
    const task = await this.#client.getTask(id);
    if (!task) throw new NotFoundError(`No such container: ${id}`);
    return { id, pid: task.pid, status: task.status.toLowerCase(), bundle: '' };
  }

  /** Every container of this berthd (by its owner label) with its task's state. */
  async list(_all?: RuntimeHandle): Promise<ContainerState[]> {
    const [containers, tasks] = await Promise.all([
      // A quoted value: an owner is a data root path, which may hold spaces.
      this.#client.listContainers([`labels."${OWNER_LABEL}"==${JSON.stringify(this.#o.owner)}`]),
      this.#client.listTasks(),
    ]);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    return containers.map((c) => {
      const t = byId.get(c.id);
      return { id: c.id, pid: t?.pid ?? 0, status: (t?.status ?? 'stopped').toLowerCase(), bundle: '' };
    });
  }

  /** Removes this berthd's containers that it neither started nor adopted (what a dead berthd left); their ids. */
  async reconcile(_all?: RuntimeHandle): Promise<string[]> {
    const leftovers = (await this.list()).filter((c) => !this.#running.has(c.id));
    const handle: ContainerdHandle = { binary: '', name: '' }; // delete needs no runtime: containerd knows it
    await Promise.all(leftovers.map((c) => this.delete(handle, c.id, { force: true })));
    return leftovers.map((c) => c.id);
  }

  /**
   * What cut creates and dead shims left in the namespace, from one snapshot (containerd-leaks.ts says in what
   * order): tasks without a record removed, shims containerd forgot killed with what runs below them, `runc init`s
   * under no shim below `runcRoots` killed and their runc state deleted (runc-orphans.ts). After {@link reconcile}.
   */
  sweep(runcRoots: readonly string[]): Promise<SweepReport> {
    const labels = { [OWNER_LABEL]: this.#o.owner, 'berth.kind': 'stale' };
    return sweepNamespace(this.#client, { runcRoots, labels, running: () => this.#running });
  }

  /**
   * Live restore: a task of this berthd that still runs is supervised again instead of restarted — same pid, its
   * output read again from the FIFOs the shim still writes to. Undefined when `id` has no running task.
   */
  async adopt(runtime: ContainerdHandle, id: string): Promise<ContainerdContainer | undefined> {
    const task = (await this.#tasksNow()).get(id);
    if (task?.status !== 'RUNNING') return undefined;
    const dir = join(this.#o.fifoDir, id);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    reopenFifo(join(dir, 'stdout'))?.pipe(stdout, { end: false });
    reopenFifo(join(dir, 'stderr'))?.pipe(stderr, { end: false });
    const exited = (async (): Promise<ExitStatus> => {
      try {
        return this.#exitStatus(runtime, await this.#waitExit(id));
      } catch (err) {
        return { code: 127, signal: null, at: new Date(), error: (err as Error).message };
      } finally {
        this.#running.delete(id);
        await this.#client.deleteTask(id).catch(() => undefined);
        await this.#client.deleteContainer(id).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        stdout.end();
        stderr.end();
      }
    })();
    const container = { id, runtime, runtimePid: task.pid, exited, stdout, stderr };
    this.#running.set(id, container);
    return container;
  }

  /** The tasks of the namespace by id: one list for every caller while it is in flight, a new one after. */
  #tasksNow(): Promise<ReadonlyMap<string, TaskInfo>> {
    this.#taskList ??= this.#client
      .listTasks()
      .then((tasks) => new Map(tasks.map((t) => [t.id, t])))
      .finally(() => {
        this.#taskList = undefined;
      });
    return this.#taskList;
  }

  /** Kills every container this executor runs (daemon shutdown without live restore) and waits for them. */
  async killAll(): Promise<void> {
    await Promise.all([...this.#running.values()].map((c) => this.destroy(c)));
  }
}

function ignoreGone(err: unknown): void {
  if (err instanceof NotFoundError || err instanceof SystemError) return;
  throw err;
}
