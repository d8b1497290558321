/**
 * A client of one containerd namespace over its gRPC socket: the calls berth's containerd executor needs
 * (containerd.md §2) — containers with an inline OCI spec and no snapshotter, tasks with FIFO stdio, their exits,
 * and the task event stream. Every call carries the namespace; containerd creates it on first use.
 *
 * @module
 */
import type * as grpc from '@grpc/grpc-js';
import { NotFoundError } from '../errdefs/index.ts';
import { type CallOptions, grpcJs, serviceOf, unary, unixClient } from '../grpc/index.ts';
import { containerdError } from './errors.ts';
import { type AnyValue, loadServices, specAny, taskExitType } from './protos.ts';

/** A container record: berth's labels and the runtime that runs its task. */
export interface ContainerRecord {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly runtime: { readonly name: string; readonly options?: AnyValue | undefined };
}

/** What a task reports in `Tasks.List` / `Tasks.Get`. */
export interface TaskInfo {
  readonly id: string;
  readonly pid: number;
  /** containerd's status: UNKNOWN, CREATED, RUNNING, STOPPED, PAUSED, PAUSING. */
  readonly status: string;
  readonly exitStatus: number;
}

/** A task's exit, from `Tasks.Wait` or a `/tasks/exit` event. */
export interface TaskExit {
  readonly id: string;
  readonly exitStatus: number;
  readonly exitedAt: Date;
}

const CALL_TIMEOUT_MS = 10_000;
/** `Tasks.Wait` answers when the task exits: no deadline of its own (the caller gives up by cancelling). */
const WAIT_TIMEOUT_MS = 2 ** 31 - 1;

type Services = ReturnType<typeof loadServices>;
type ServiceName = 'containers' | 'tasks' | 'events' | 'version';
let services: Services | undefined;

interface RawProcess {
  id: string;
  pid: number;
  status: string;
  exit_status: number;
}

interface RawEnvelope {
  topic: string;
  namespace: string;
  event?: { type_url: string; value: Buffer };
}

const taskInfo = (p: RawProcess): TaskInfo => ({
  id: p.id,
  pid: p.pid,
  status: p.status,
  exitStatus: p.exit_status,
});

/** Cleanup of what may already be gone: a NotFound is success. */
function ignoreNotFound(err: unknown): undefined {
  if (err instanceof NotFoundError) return undefined;
  throw err;
}

/** The init process's exit from a `/tasks/exit` envelope (exec'd processes have another id). */
function decodeTaskExit(env: RawEnvelope): TaskExit | undefined {
  if (env.topic !== '/tasks/exit' || !env.event) return undefined;
  const type = taskExitType();
  const e = type.toObject(type.decode(env.event.value), { longs: String, defaults: true }) as {
    container_id: string;
    id: string;
    exit_status: number;
    exited_at?: { seconds?: string; nanos?: number };
  };
  if (e.id !== e.container_id) return undefined;
  return { id: e.container_id, exitStatus: e.exit_status, exitedAt: timestamp(e.exited_at) };
}

const timestamp = (t: { seconds?: string | number; nanos?: number } | null | undefined): Date =>
  new Date(Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6));

export class ContainerdClient {
  readonly namespace: string;
  readonly #clients: Record<ServiceName, grpc.Client>;

  /** @param socket containerd's gRPC socket path (not a URL) */
  constructor(socket: string, namespace: string) {
    this.namespace = namespace;
    services ??= loadServices();
    const svc = (name: string) => unixClient(serviceOf(services as Services, name), socket);
    this.#clients = {
      containers: svc('containerd.services.containers.v1.Containers'),
      tasks: svc('containerd.services.tasks.v1.Tasks'),
      events: svc('containerd.services.events.v1.Events'),
      version: svc('containerd.services.version.v1.Version'),
    };
  }

  async #call<T>(
    service: ServiceName,
    method: string,
    req: unknown,
    timeoutMs = CALL_TIMEOUT_MS,
    waitForReady = false,
  ): Promise<T> {
    const o: CallOptions = { metadata: { 'containerd-namespace': this.namespace }, timeoutMs, waitForReady };
    try {
      return await unary<T>(this.#clients[service], method, req, o);
    } catch (err) {
      throw containerdError(`${service}.${method}`, err);
    }
  }

  /**
   * containerd's version and revision (`ContainerdCommit`); also the liveness check, which waits up to
   * `timeoutMs` for a connection being re-established (containerd just restarted).
   */
  async version(timeoutMs = CALL_TIMEOUT_MS): Promise<{ version: string; revision: string }> {
    return this.#call('version', 'Version', {}, timeoutMs, true);
  }

  /** Creates a container whose spec is `spec` (its `root.path` an absolute directory: no snapshotter). */
  async createContainer(c: ContainerRecord & { readonly spec: unknown }): Promise<void> {
    await this.#call('containers', 'Create', {
      container: {
        id: c.id,
        labels: c.labels,
        runtime: { name: c.runtime.name, ...(c.runtime.options ? { options: c.runtime.options } : {}) },
        spec: specAny(c.spec),
      },
    });
  }

  /** Deletes a container record; an absent one is not an error (cleanup is idempotent). */
  async deleteContainer(id: string): Promise<void> {
    await this.#call('containers', 'Delete', { id }).catch(ignoreNotFound);
  }

  /** The containers matching every filter (containerd's syntax, e.g. `labels."berth.kind"==plugin`). */
  async listContainers(filters: readonly string[] = []): Promise<ContainerRecord[]> {
    const r = await this.#call<{
      containers: { id: string; labels: Record<string, string>; runtime: { name: string } }[];
    }>('containers', 'List', { filters });
    return r.containers.map((c) => ({
      id: c.id,
      labels: c.labels ?? {},
      runtime: { name: c.runtime?.name ?? '' },
    }));
  }

  /** Creates the container's task with FIFO (or `file://`, `binary://`) stdio; returns its pid. */
  async createTask(id: string, stdio: { stdout: string; stderr: string }): Promise<number> {
    const r = await this.#call<{ pid: number }>('tasks', 'Create', {
      container_id: id,
      rootfs: [],
      stdin: '',
      stdout: stdio.stdout,
      stderr: stdio.stderr,
      terminal: false,
    });
    return r.pid;
  }

  async startTask(id: string): Promise<number> {
    return (await this.#call<{ pid: number }>('tasks', 'Start', { container_id: id })).pid;
  }

  /** Resolves when the task exits (call it before {@link startTask} not to miss a fast exit). */
  async waitTask(id: string): Promise<TaskExit> {
    const r = await this.#call<{ exit_status: number; exited_at: { seconds: string; nanos: number } }>(
      'tasks',
      'Wait',
      { container_id: id },
      WAIT_TIMEOUT_MS,
    );
    return { id, exitStatus: r.exit_status, exitedAt: timestamp(r.exited_at) };
  }

  /** Sends `signal` (a number) to the task's init, or to all its processes. */
  async killTask(id: string, signal: number, o: { all?: boolean } = {}): Promise<void> {
    await this.#call('tasks', 'Kill', { container_id: id, signal, all: o.all ?? false });
  }

  /** Deletes a stopped task; an absent one is not an error. */
  async deleteTask(id: string): Promise<{ exitStatus: number } | undefined> {
    const r = await this.#call<{ exit_status: number }>('tasks', 'Delete', { container_id: id }).catch(
      ignoreNotFound,
    );
    return r ? { exitStatus: r.exit_status } : undefined;
  }

  async getTask(id: string): Promise<TaskInfo | undefined> {
    const r = await this.#call<{ process: RawProcess }>('tasks', 'Get', { container_id: id }).catch(
      ignoreNotFound,
    );
    return r ? taskInfo(r.process) : undefined;
  }

  async listTasks(): Promise<TaskInfo[]> {
    const r = await this.#call<{ tasks: RawProcess[] }>('tasks', 'List', { filter: '' });
    return r.tasks.map(taskInfo);
  }

  /**
   * Task exits as they happen in this namespace (`/tasks/exit` events of init processes). The stream ends on
   * `close()` or when containerd goes away (`onEnd` tells why).
   */
  subscribeExits(onExit: (e: TaskExit) => void, onEnd: (err?: Error) => void): { close(): void } {
    const events = this.#clients.events as unknown as {
      Subscribe(req: unknown, md: grpc.Metadata): grpc.ClientReadableStream<RawEnvelope>;
    };
    const stream = events.Subscribe(
      { filters: [`namespace==${this.namespace},topic=="/tasks/exit"`] },
      this.#metadata(),
    );
    stream.on('data', (env: RawEnvelope) => {
      const exit = decodeTaskExit(env);
      if (exit) onExit(exit);
    });
    let ended = false;
    const end = (err?: Error) => {
      if (!ended) onEnd(err && containerdError('events.Subscribe', err));
      ended = true;
    };
    stream.on('error', end);
    stream.on('end', () => end());
    return { close: () => stream.cancel() };
  }

  #metadata(): grpc.Metadata {
    const md = new (grpcJs().Metadata)();
    md.set('containerd-namespace', this.namespace);
    return md;
  }

  close(): void {
    for (const c of Object.values(this.#clients)) c.close();
  }
}
