/**
 * `berth run`: one-off containers from Docker's default spec on any runnable runtime. Each run gets a bundle
 * under `<exec-root>/runs/<id>`, removed when it ends; the container runs in the foreground of the runtime,
 * so its exit status is the runtime's. Volumes (`-v`) are mounted through their driver before the container
 * starts and unmounted after it ends; output can also go to a log-driver plugin (run-logging.ts).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunHandle, RunRequest } from '../api/index.ts';
import { InvalidParameterError } from '../errdefs/index.ts';
import {
  type Executor,
  type ExitStatus,
  type RunningContainer,
  removeBundle,
  writeBundle,
} from '../executor/index.ts';
import type { LogSession } from '../logdriver/index.ts';
import { containerSpec, type Mount } from '../oci/index.ts';
import type { RunnableRuntimes } from '../runtimes/index.ts';
import { bindMount, parseBind, type VolumeService } from '../volumes/index.ts';
import type { RunLogging } from './run-logging.ts';

/** Directory of run bundles under the exec root. */
export const RUNS_DIR = 'runs';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** The volumes of one run, mounted; `detach` unmounts them (never throws: failures are logged). */
interface Attached {
  readonly mounts: Mount[];
  detach(): Promise<void>;
}

export interface RunServiceOptions {
  readonly runtimes: RunnableRuntimes;
  readonly executor: Executor;
  readonly execRoot: string;
  readonly volumes?: VolumeService;
  readonly logging?: RunLogging;
  readonly log?: Log;
}

export class RunService {
  readonly #o: RunServiceOptions;
  readonly #dir: string;
  /** Runs in progress, so shutdown can end them and wait for their cleanup (Unmount, StopLogging). */
  readonly #active = new Map<string, { kill(): Promise<void>; exited: Promise<ExitStatus> }>();

  constructor(o: RunServiceOptions) {
    this.#o = o;
    this.#dir = join(o.execRoot, RUNS_DIR);
  }

  async run(request: RunRequest): Promise<RunHandle> {
    const rt = await this.#o.runtimes.runnable(request.runtime);
    const st = statSync(request.rootfs, { throwIfNoEntry: false });
    if (!st?.isDirectory()) {
      throw new InvalidParameterError(`rootfs ${request.rootfs} is not a directory on the berthd host`);
    }
    const binds = (request.binds ?? []).map(parseBind);
    const seen = new Set<string>();
    for (const b of binds) {
      if (seen.has(b.destination)) throw new InvalidParameterError(`Duplicate mount point: ${b.destination}`);
      seen.add(b.destination);
    }
    const id = `berth-run-${randomBytes(8).toString('hex')}`;
    this.#o.logging?.check(request); // bad log opts: refused before any volume is mounted
    const attached = await this.#attachVolumes(id, binds, request.volumeDriver);
    let session: LogSession | undefined;
    const bundle = join(this.#dir, id);
    let container: RunningContainer;
    try {
      session = await this.#o.logging?.open(id, request);
      const spec = containerSpec({
        rootfs: request.rootfs,
        args: request.args,
        hostname: id.slice(-12),
        ...(request.env ? { env: request.env } : {}),
        ...(request.cwd ? { cwd: request.cwd } : {}),
        ...(request.readonlyRootfs ? { readonlyRootfs: true } : {}),
        mounts: attached.mounts,
      });
      writeBundle(bundle, spec);
      container = this.#o.executor.start(rt.cli, id, bundle, 'pipe', { 'berth.kind': 'run' });
    } catch (err) {
      await session?.close();
      await attached.detach();
      removeBundle(bundle);
      throw err;
    }
    const { stdout, stderr } = container;
    if (!stdout || !stderr) throw new Error('BUG: piped run without output streams');
    session?.attach('stdout', stdout);
    session?.attach('stderr', stderr);
    const exited = container.exited
      .then(async (status) => {
        await session?.close();
        await attached.detach();
        return status;
      })
      .finally(() => {
        removeBundle(bundle);
        this.#active.delete(id);
      });
    const kill = () => {
      session?.release();
      return this.#o.executor.kill(rt.cli, id, 'SIGKILL').catch(() => undefined);
    };
    this.#active.set(id, { kill, exited });
    return { id, runtime: rt.name, stdout, stderr, exited, kill };
  }

  /**
   * Mounts every `-v` entry in order; on any failure the ones already mounted are unmounted again. A host
   * directory that does not exist is created, as `docker run -v` does.
   */
  async #attachVolumes(
    run: string,
    binds: ReturnType<typeof parseBind>[],
    driver?: string,
  ): Promise<Attached> {
    const mounts: Mount[] = [];
    const done: { name: string; id: string }[] = [];
    const detach = async () => {
      for (const m of done.splice(0).reverse()) {
        await this.#o.volumes
          ?.unmount(m.name, m.id)
          .catch((err: Error) => this.#o.log?.('error', `run ${run}: ${err.message}`));
      }
    };
    try {
      for (const b of binds) {
        if (b.kind === 'host') {
          mkdirSync(b.source, { recursive: true });
          mounts.push(bindMount(b.source, b));
          continue;
        }
        if (!this.#o.volumes) throw new InvalidParameterError('this berthd has no volume service');
        const got = await this.#o.volumes.mount(b.name, { run, ...(driver ? { driver } : {}) });
        done.push({ name: b.name, id: got.ID });
        mounts.push(bindMount(got.Mountpoint, b));
      }
    } catch (err) {
      await detach();
      throw err;
    }
    return { mounts, detach };
  }

  /** Kills every run and waits until each is cleaned up (volumes unmounted, logging stopped). */
  async shutdown(): Promise<void> {
    const runs = [...this.#active.values()];
    await Promise.all(runs.map((r) => r.kill()));
    await Promise.all(runs.map((r) => r.exited.catch(() => undefined)));
  }

  /** Removes bundles of runs a previous berthd left (their containers are reconciled separately). */
  cleanLeftovers(): void {
    removeBundle(this.#dir);
  }
}
