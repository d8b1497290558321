/**
 * Which log driver a run uses (`--log-driver`, else daemon.json `log-driver`; `none` or nothing: output goes
 * only to the client) and the Info dockerd would send for it. Each logged run leaves a small record
 * (`<data-root>/runs/logs/<id>.json`: driver + Info) so `berth logs` can ask the driver later, through
 * `LogDriver.ReadLogs`, even after a berthd restart.
 *
 * @module
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { LogLine, RunRequest } from '../api/index.ts';
import {
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
} from '../errdefs/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';
import {
  deliveryOptions,
  FIFO_DIR_IN_PLUGIN,
  FrameDecoder,
  LOG_DRIVER_CAPABILITY,
  type LogInfo,
  LogSession,
} from '../logdriver/index.ts';
import type { PluginManager } from '../plugins/index.ts';

export interface LogDefaults {
  readonly driver: string | undefined;
  readonly opts: Readonly<Record<string, string>>;
}

/** dockerd's `logger.Info` for a berth run: no image, so the image fields are empty. */
export function runLogInfo(
  id: string,
  request: RunRequest,
  opts: Record<string, string>,
  now: Date,
): LogInfo {
  return {
    Config: opts,
    ContainerID: id,
    ContainerName: `/${id}`,
    ContainerEntrypoint: request.args[0] ?? '',
    ContainerArgs: request.args.slice(1),
    ContainerImageID: '',
    ContainerImageName: '',
    ContainerCreated: now.toISOString(),
    ContainerEnv: [...(request.env ?? [])],
    ContainerLabels: { ...(request.labels ?? {}) },
    LogPath: '',
    DaemonName: 'docker',
  };
}

export class RunLogging {
  readonly #plugins: PluginManager;
  readonly #defaults: () => LogDefaults;
  readonly #dir: string;
  readonly #log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  readonly #restoreWaitMs: number;

  constructor(o: {
    plugins: PluginManager;
    dataRoot: string;
    defaults: () => LogDefaults;
    /** While berthd restores plugins: how long a run waits for its log driver before a 503 naming it. */
    restoreWaitMs?: number;
    log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  }) {
    this.#plugins = o.plugins;
    this.#restoreWaitMs = o.restoreWaitMs ?? 20_000;
    this.#defaults = o.defaults;
    this.#dir = join(o.dataRoot, 'runs', 'logs');
    this.#log = o.log;
  }

  /** At start no run exists: FIFOs left in log drivers' scope by a killed berthd are removed. */
  cleanLeftovers(): void {
    for (const p of this.#plugins.list({ capability: [LOG_DRIVER_CAPABILITY] }))
      rmSync(this.#plugins.hostPath(p.Id, FIFO_DIR_IN_PLUGIN), { recursive: true, force: true });
  }

  /** A log driver berthd is still restoring is waited for (bounded: then 503 naming it). */
  #driverRestored(driver: string): Promise<void> | undefined {
    return this.#plugins.whenRestored(
      driver,
      this.#restoreWaitMs,
      (name) => new UnavailableError(`starting: log driver ${name} not ready`),
    );
  }

  /** The driver and opts of a run (its own, else the daemon's), or undefined without a log driver. */
  #choice(request: RunRequest): { driver: string; opts: Record<string, string> } | undefined {
    const defaults = this.#defaults();
    const driver = request.logDriver ?? defaults.driver;
    if (!driver || driver === 'none') return undefined;
    const opts = request.logDriver ? { ...request.logOpts } : { ...defaults.opts, ...request.logOpts };
    return { driver, opts };
  }

  /** @throws {InvalidParameterError} for log opts dockerd would refuse */
  check(request: RunRequest): void {
    const c = this.#choice(request);
    if (c) deliveryOptions(c.opts);
  }

  /** Starts logging run `id`, or returns undefined when it has no log driver. */
  async open(id: string, request: RunRequest): Promise<LogSession | undefined> {
    const c = this.#choice(request);
    if (!c) return undefined;
    const { driver, opts } = c;
    const delivery = deliveryOptions(opts);
    await this.#driverRestored(driver);
    const info = runLogInfo(id, request, opts, new Date());
    const session = await LogSession.open({ plugins: this.#plugins, driver, info, delivery, log: this.#log });
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(join(this.#dir, `${id}.json`), `${JSON.stringify({ driver, info })}\n`, 0o600);
    return session;
  }

  /**
   * `berth logs RUN-ID`: the run's output read back through `LogDriver.ReadLogs`.
   * @throws {NotFoundError} unknown run; {NotImplementedError} when the driver cannot read logs back
   */
  async read(id: string, o: { follow?: boolean; tail?: number } = {}): Promise<AsyncIterable<LogLine>> {
    if (!/^berth-run-[0-9a-f]{16}$/.test(id))
      throw new InvalidParameterError(`invalid run id "${id}": run ids look like berth-run-0123456789abcdef`);
    let record: { driver: string; info: LogInfo };
    try {
      record = JSON.parse(readFileSync(join(this.#dir, `${id}.json`), 'utf8'));
    } catch {
      throw new NotFoundError(
        `no logs recorded for run ${id}: it did not use a log driver, or it is unknown`,
      );
    }
    await this.#driverRestored(record.driver);
    const client = this.#plugins.client(record.driver, LOG_DRIVER_CAPABILITY);
    const caps = await client
      .call<{ Cap?: { ReadLogs?: boolean } }>('LogDriver.Capabilities', {})
      .catch(() => ({}) as { Cap?: { ReadLogs?: boolean } });
    if (!caps.Cap?.ReadLogs)
      throw new NotImplementedError(
        `configured logging driver does not support reading: ${record.driver} does not declare ReadLogs`,
      );
    const body = await client.stream('LogDriver.ReadLogs', {
      Info: record.info,
      Config: {
        Since: '0001-01-01T00:00:00Z',
        Until: '0001-01-01T00:00:00Z',
        Tail: o.tail ?? -1,
        Follow: o.follow ?? false,
      },
    });
    return decodeLines(body);
  }
}

async function* decodeLines(body: Readable): AsyncIterable<LogLine> {
  const decoder = new FrameDecoder();
  for await (const chunk of body) {
    // As `docker logs`: what ReadLogs answers is printed as it is (a driver written for dockerd ends its lines
    // with the newline the daemon stripped on the way in), and pieces of a long line are simply concatenated.
    for (const e of decoder.push(chunk as Buffer))
      yield { source: e.source === 'stderr' ? 'stderr' : 'stdout', line: e.line };
  }
}
