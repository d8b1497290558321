/**
 * The log driver protocol (`docker.logdriver/1.0`, `LogDriver.*`). The daemon makes a FIFO per container and calls
 * StartLogging with its path; the SDK opens it and hands the handler the decoded record stream. StopLogging is
 * called before the daemon closes its end, so the stream ends (EOF) after it, carrying what was still buffered.
 *
 * @module
 */
import { closeSync, constants, open as fsOpen } from 'node:fs';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeLogEntry, type LogEntry, LogEntryDecoder, type LogEntryInput } from './log-entry.ts';
import type { Protocol } from './route.ts';

/** moby's logger.Info as the daemon sends it. */
export interface LogInfo {
  readonly Config: Readonly<Record<string, string>>;
  readonly ContainerID: string;
  readonly ContainerName: string;
  readonly ContainerEntrypoint: string;
  readonly ContainerArgs: readonly string[];
  readonly ContainerImageID: string;
  readonly ContainerImageName: string;
  /** RFC 3339. */
  readonly ContainerCreated: string;
  readonly ContainerEnv: readonly string[];
  readonly ContainerLabels: Readonly<Record<string, string>>;
  readonly LogPath: string;
  readonly DaemonName: string;
}
export interface StartLoggingRequest {
  /** The FIFO, e.g. `/run/docker/logging/<id>`. */
  readonly File: string;
  readonly Info: LogInfo;
}
export interface StopLoggingRequest {
  readonly File: string;
}
export interface ReadLogsRequest {
  readonly Info: LogInfo;
  readonly Config: {
    /** RFC 3339; the zero time means from the start. */
    readonly Since: string;
    readonly Until: string;
    /** Last N lines; negative means all. */
    readonly Tail: number;
    readonly Follow: boolean;
  };
}

type Maybe<T> = T | Promise<T>;

/** A log driver. */
export interface LogDriver {
  /**
   * A container starts logging: consume `entries` in the background (do not await it here; the daemon waits for
   * this call). The iteration ends after StopLogging, when the daemon closes the FIFO.
   */
  startLogging(req: StartLoggingRequest, entries: AsyncIterable<LogEntry>): Maybe<void>;
  stopLogging?(req: StopLoggingRequest): Maybe<void>;
  /**
   * `docker logs` for this driver; present means `Capabilities` answers `ReadLogs: true`. Yield the entries as
   * received (lines without their newline, as moby sends them): the SDK appends the newline to complete
   * (non-partial) lines. Note `docker logs` of a stopped container calls StartLogging/StopLogging again first.
   */
  readLogs?(req: ReadLogsRequest): AsyncIterable<LogEntryInput> | Iterable<LogEntryInput>;
}

/** After StopLogging, how long the FIFO may stay open before the SDK closes it. */
const DRAIN_MS = 10_000;

const INFO_DEFAULTS: LogInfo = {
  Config: {},
  ContainerID: '',
  ContainerName: '',
  ContainerEntrypoint: '',
  ContainerArgs: [],
  ContainerImageID: '',
  ContainerImageName: '',
  ContainerCreated: '',
  ContainerEnv: [],
  ContainerLabels: {},
  LogPath: '',
  DaemonName: '',
};

const info = (v: unknown): LogInfo => ({ ...INFO_DEFAULTS, ...(v as Partial<LogInfo>) });

/**
 * Opens a FIFO for reading without holding a libuv thread per read: the fd becomes an event-driven pipe. The open
 * itself waits (in the thread pool) for the daemon's writing end, which moby opens before StartLogging. A plain
 * fd, not a FileHandle: a FileHandle closes its fd when collected, under the pipe.
 */
function openFifo(file: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    fsOpen(file, constants.O_RDONLY, (err, fd) => {
      if (err) return reject(err);
      try {
        resolve(new Socket({ fd, readable: true, writable: false }));
      } catch (e) {
        closeSync(fd);
        reject(e);
      }
    });
  });
}

/** The log protocol with its table of open FIFOs (one per server). */
export function logProtocol(): Protocol<LogDriver> & { closeAll(): void } {
  const streams = new Map<string, Readable>();
  const start = async (h: LogDriver, r: Record<string, unknown>) => {
    const file = String(r.File);
    if (streams.has(file)) throw new Error(`already logging from ${file}`);
    const fifo = await openFifo(file);
    streams.set(file, fifo);
    const entries = new LogEntryDecoder();
    pipeline(fifo, entries)
      .catch((err: Error) => entries.destroy(err))
      .finally(() => streams.delete(file));
    await h.startLogging({ File: file, Info: info(r.Info) }, entries);
    return {};
  };
  const stop = async (h: LogDriver, r: Record<string, unknown>) => {
    const file = String(r.File);
    await h.stopLogging?.({ File: file });
    const fifo = streams.get(file);
    if (fifo) setTimeout(() => fifo.destroy(), DRAIN_MS).unref();
    return {};
  };
  return {
    implements: 'LogDriver',
    closeAll: () => {
      for (const s of streams.values()) s.destroy();
    },
    routes: [
      { method: 'LogDriver.StartLogging', fields: { File: 'string', Info: 'object?' }, run: start },
      { method: 'LogDriver.StopLogging', fields: { File: 'string' }, run: stop },
      {
        method: 'LogDriver.Capabilities',
        fields: {},
        run: (h) => ({ Cap: { ReadLogs: typeof h.readLogs === 'function' } }),
      },
      {
        method: 'LogDriver.ReadLogs',
        fields: { Info: 'object?', Config: 'object?' },
        stream: true,
        run: (h, r) => {
          if (!h.readLogs) throw new Error('this log driver cannot read logs back');
          const c = (r.Config ?? {}) as Partial<ReadLogsRequest['Config']>;
          const config = { Since: '', Until: '', Tail: -1, Follow: false, ...c };
          const source = h.readLogs({ Info: info(r.Info), Config: config });
          return Readable.from(frames(source));
        },
      },
    ],
  };
}

/**
 * moby strips each line's newline on the way in and `docker logs` prints what ReadLogs gives: put it back at the
 * end of every line, that is after a whole entry or the last piece of a split one.
 */
function withNewline(e: LogEntryInput): LogEntryInput {
  if (e.partial && !e.partialLogMetadata?.last) return e;
  const line = typeof e.line === 'string' ? Buffer.from(e.line) : (e.line ?? Buffer.alloc(0));
  return { ...e, line: Buffer.concat([line, NEWLINE]) };
}
const NEWLINE = Buffer.from('\n');

async function* frames(source: AsyncIterable<LogEntryInput> | Iterable<LogEntryInput>) {
  for await (const e of source) yield encodeLogEntry(withNewline(e));
}
