/**
 * `berth run`: one-off containers from Docker's default spec on any runnable runtime. Each run gets a bundle
 * under `<exec-root>/runs/<id>`, removed when it ends; the container runs in the foreground of the runtime,
 * so its exit status is the runtime's.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunHandle, RunRequest } from '../api/index.ts';
import { InvalidParameterError } from '../errdefs/index.ts';
import type { RuncExecutor } from '../executor/index.ts';
import { containerSpec } from '../oci/index.ts';
import type { RuntimeManager } from '../runtimes/index.ts';

/** Directory of run bundles under the exec root. */
export const RUNS_DIR = 'runs';

export class RunService {
  readonly #runtimes: RuntimeManager;
  readonly #executor: RuncExecutor;
  readonly #dir: string;

  constructor(runtimes: RuntimeManager, executor: RuncExecutor, execRoot: string) {
    this.#runtimes = runtimes;
    this.#executor = executor;
    this.#dir = join(execRoot, RUNS_DIR);
  }

  async run(request: RunRequest): Promise<RunHandle> {
    const rt = this.#runtimes.runnable(request.runtime);
    const st = statSync(request.rootfs, { throwIfNoEntry: false });
    if (!st?.isDirectory()) {
      throw new InvalidParameterError(`rootfs ${request.rootfs} is not a directory on the berthd host`);
    }
    const id = `berth-run-${randomBytes(8).toString('hex')}`;
    const bundle = join(this.#dir, id);
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    const spec = containerSpec({
      rootfs: request.rootfs,
      args: request.args,
      hostname: id.slice(-12),
      ...(request.env ? { env: request.env } : {}),
      ...(request.cwd ? { cwd: request.cwd } : {}),
      ...(request.readonlyRootfs ? { readonlyRootfs: true } : {}),
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const container = this.#executor.start(rt.cli, id, bundle, 'pipe');
    const exited = container.exited.finally(() => rmSync(bundle, { recursive: true, force: true }));
    const { stdout, stderr } = container;
    if (!stdout || !stderr) throw new Error('BUG: piped run without output streams');
    return {
      id,
      runtime: rt.name,
      stdout,
      stderr,
      exited,
      kill: () => this.#executor.kill(rt.cli, id, 'SIGKILL').catch(() => undefined),
    };
  }

  /** Removes bundles of runs a previous berthd left (their containers are reconciled separately). */
  cleanLeftovers(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
