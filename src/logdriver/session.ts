/**
 * One run's output shipped to a log-driver plugin (moby `daemon/logger/plugin.go` + `ring.go`): a FIFO in
 * the plugin's scope, `LogDriver.StartLogging {File, Info}`, one framed LogEntry per message, and at the end
 * `StopLogging {File}` under a timeout. Delivery follows the log opts: `blocking` pauses the workload's
 * output while the driver does not keep up; `non-blocking` holds up to `max-buffer-size` bytes of lines and
 * drops (and counts) the rest, so a slow or dead driver never stalls the workload. Beyond dockerd, a driver
 * that crashes and is restarted by the plugin manager is attached again (a new FIFO and StartLogging).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { BerthError, SystemError } from '../errdefs/index.ts';
import type { PluginEvent, PluginManager } from '../plugins/index.ts';
import { encodeFrame } from './entry.ts';
import { makeFifo, openFifoWriter } from './fifo.ts';
import type { DeliveryOptions } from './options.ts';
import { LineSplitter, type LogMessage } from './splitter.ts';

export const LOG_DRIVER_CAPABILITY = 'logdriver';
/** Where dockerd puts log FIFOs inside the plugin. */
export const FIFO_DIR_IN_PLUGIN = '/run/docker/logging';
export const STOP_LOGGING_TIMEOUT_MS = 10_000;
/** How long the end of a run waits for queued lines to reach a slow driver before dropping them. */
export const FLUSH_TIMEOUT_MS = 2_000;

/** moby `logger.Info` as dockerd sends it in StartLogging and ReadLogs (Go field names, all present). */
export interface LogInfo {
  readonly Config: Record<string, string>;
  readonly ContainerID: string;
  readonly ContainerName: string;
  readonly ContainerEntrypoint: string;
  readonly ContainerArgs: string[];
  readonly ContainerImageID: string;
  readonly ContainerImageName: string;
  readonly ContainerCreated: string;
  readonly ContainerEnv: string[];
  readonly ContainerLabels: Record<string, string>;
  readonly LogPath: string;
  readonly DaemonName: string;
}

export interface LogSessionOptions {
  readonly plugins: PluginManager;
  /** The log-driver plugin's name or id. */
  readonly driver: string;
  readonly info: LogInfo;
  readonly delivery: DeliveryOptions;
  readonly stopTimeoutMs?: number;
  readonly flushTimeoutMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

type Frame = { readonly bytes: Buffer; readonly lineBytes: number };

export class LogSession {
  readonly #o: LogSessionOptions;
  readonly #pluginId: string;
  readonly #queue: Frame[] = [];
  readonly #sources: Readable[] = [];
  #queuedLineBytes = 0;
  #writer: Socket | undefined;
  #fifo: { inPlugin: string; onHost: string } | undefined;
  #attaching: Promise<void> | undefined;
  #closed = false;
  #released = false;
  #dropped = 0;
  readonly #onEvent = (e: PluginEvent) => this.#pluginEvent(e);

  private constructor(o: LogSessionOptions) {
    this.#o = o;
    this.#pluginId = o.plugins.inspect(o.driver).Id;
  }

  /** Starts logging. @throws the driver's error as `failed to initialize logging driver: …` */
  static async open(o: LogSessionOptions): Promise<LogSession> {
    const s = new LogSession(o);
    o.plugins.client(s.#pluginId, LOG_DRIVER_CAPABILITY); // disabled or not a log driver: fail now
    o.plugins.acquire(s.#pluginId);
    try {
      await s.#attach();
    } catch (err) {
      o.plugins.release(s.#pluginId);
      const message = `failed to initialize logging driver: ${(err as Error).message}`;
      if (err instanceof BerthError) {
        const Kind = err.constructor as new (m: string, o?: { cause?: unknown }) => BerthError;
        throw new Kind(message, { cause: err });
      }
      throw new SystemError(message, { cause: err });
    }
    o.plugins.on('event', s.#onEvent);
    return s;
  }

  /** Lines dropped so far (non-blocking mode with a full buffer, or still queued when the run ended). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Ships `stream` as `source` (`stdout` or `stderr`). */
  attach(source: 'stdout' | 'stderr', stream: Readable): void {
    const splitter = new LineSplitter();
    this.#sources.push(stream);
    stream.on('data', (chunk: Buffer) => {
      for (const m of splitter.push(chunk)) this.#enqueue(source, m);
    });
    stream.on('end', () => {
      for (const m of splitter.end()) this.#enqueue(source, m);
    });
  }

  /**
   * The run is being killed: stop holding the workload back (blocking mode pauses its output, and a paused
   * pipe would keep its end from ever being seen). From now on lines the driver cannot take are dropped.
   */
  release(): void {
    this.#released = true;
    for (const s of this.#sources) s.resume();
  }

  /** Flushes (bounded), StopLogging (bounded), removes the FIFO. Never throws: the run is over either way. */
  async close(): Promise<{ dropped: number }> {
    if (this.#closed) return { dropped: this.#dropped };
    this.#closed = true;
    this.#o.plugins.off('event', this.#onEvent);
    await Promise.race([this.#attaching, delay(this.#o.flushTimeoutMs ?? FLUSH_TIMEOUT_MS)]);
    const flushed = await this.#drained(this.#o.flushTimeoutMs ?? FLUSH_TIMEOUT_MS);
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    const writer = this.#writer;
    const fifo = this.#fifo;
    this.#writer = undefined;
    if (writer) {
      if (flushed) writer.end();
      else writer.destroy();
    }
    if (fifo && writer) {
      await this.#o.plugins
        .client(this.#pluginId, LOG_DRIVER_CAPABILITY)
        .call(
          'LogDriver.StopLogging',
          { File: fifo.inPlugin },
          {
            timeoutMs: this.#o.stopTimeoutMs ?? STOP_LOGGING_TIMEOUT_MS,
          },
        )
        .catch((err: Error) => this.#log('warn', `log driver ${this.#o.driver}: ${err.message}`));
    }
    if (fifo) rmSync(fifo.onHost, { force: true });
    try {
      this.#o.plugins.release(this.#pluginId);
    } catch {
      // removed with force meanwhile
    }
    if (this.#dropped)
      this.#log(
        'warn',
        `log driver ${this.#o.driver}: ${this.#dropped} line(s) of ${this.#o.info.ContainerID} dropped`,
      );
    return { dropped: this.#dropped };
  }

  // ---- internals ----

  /** A new FIFO and StartLogging on it; queued lines follow. */
  async #attach(): Promise<void> {
    const id = randomBytes(32).toString('hex');
    const inPlugin = `${FIFO_DIR_IN_PLUGIN}/${id}`;
    const onHost = this.#o.plugins.hostPath(this.#pluginId, inPlugin);
    await makeFifo(onHost);
    const writer = openFifoWriter(onHost);
    writer.on('error', (err) => this.#log('warn', `log FIFO ${onHost}: ${err.message}`));
    try {
      await this.#o.plugins
        .client(this.#pluginId, LOG_DRIVER_CAPABILITY)
        .call('LogDriver.StartLogging', { File: inPlugin, Info: this.#o.info });
    } catch (err) {
      writer.destroy();
      rmSync(onHost, { force: true });
      throw err;
    }
    writer.on('drain', () => this.#flush());
    this.#writer = writer;
    this.#fifo = { inPlugin, onHost };
    this.#flush();
  }

  /** The driver died (or was force-disabled): stop writing into a FIFO nobody will read in order. */
  #detach(): void {
    this.#writer?.destroy();
    if (this.#fifo) rmSync(this.#fifo.onHost, { force: true });
    this.#writer = undefined;
    this.#fifo = undefined;
    this.#pause();
  }

  #pluginEvent(e: PluginEvent): void {
    if (e.Actor.ID !== this.#pluginId || this.#closed) return;
    if (e.Action === 'crash' || e.Action === 'disable') this.#detach();
    if ((e.Action === 'restart' || e.Action === 'enable') && !this.#writer && !this.#attaching) {
      this.#attaching = this.#attach()
        .then(() =>
          this.#log('info', `log driver ${this.#o.driver} re-attached to ${this.#o.info.ContainerID}`),
        )
        .catch((err: Error) =>
          this.#log('error', `log driver ${this.#o.driver}: re-attach failed: ${err.message}`),
        )
        .finally(() => {
          this.#attaching = undefined;
        });
    }
  }

  #enqueue(source: string, m: LogMessage): void {
    const bytes = encodeFrame({
      source,
      timeNano: m.timeNano,
      line: m.line,
      partial: m.partial !== undefined,
      ...(m.partial ? { partialMetadata: m.partial } : {}),
    });
    const w = this.#writer;
    if (w && this.#queue.length === 0 && !w.writableNeedDrain) {
      w.write(bytes);
      if (w.writableNeedDrain) this.#pause();
      return;
    }
    const full = this.#queuedLineBytes + m.line.length > this.#o.delivery.maxBufferBytes;
    const dropping = this.#o.delivery.mode === 'non-blocking' || this.#released;
    if (dropping && full && this.#queue.length > 0) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ bytes, lineBytes: m.line.length });
    this.#queuedLineBytes += m.line.length;
    this.#pause();
  }

  #flush(): void {
    const w = this.#writer;
    while (w && this.#queue.length && !w.writableNeedDrain) {
      const f = this.#queue.shift() as Frame;
      this.#queuedLineBytes -= f.lineBytes;
      w.write(f.bytes);
    }
    if (w && this.#queue.length === 0 && !w.writableNeedDrain) {
      for (const s of this.#sources) s.resume();
    }
  }

  /** Blocking mode only: the workload waits for the driver, as with dockerd. */
  #pause(): void {
    if (this.#o.delivery.mode === 'blocking' && !this.#closed && !this.#released)
      for (const s of this.#sources) s.pause();
  }

  /** Whether everything reached the FIFO within `ms`. */
  async #drained(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const w = this.#writer;
      if (!w) return this.#queue.length === 0;
      if (this.#queue.length === 0 && w.writableLength === 0) return true;
      if (Date.now() >= deadline) return false;
      await delay(20);
    }
  }

  #log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.#o.log?.(level, msg);
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
