/**
 * Docker's log record: moby `api/types/plugins/logdriver/entry.proto`, framed as a 4-byte big-endian length and
 * then the protobuf `LogEntry`, on the FIFO of `StartLogging` and in `ReadLogs` answers. The message type is
 * declared here through protobufjs's reflection API (field numbers and types as in entry.proto), so no .proto file
 * has to ship inside a plugin's rootfs.
 *
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import protobuf from 'protobufjs';

export interface PartialLogMetadata {
  readonly last: boolean;
  readonly id: string;
  readonly ordinal: number;
}

export interface LogEntry {
  /** `stdout` or `stderr`. */
  readonly source: string;
  /** Nanoseconds since the Unix epoch. */
  readonly timeNano: bigint;
  readonly line: Buffer;
  /** The line was split (longer than the daemon's buffer); see `partialLogMetadata`. */
  readonly partial: boolean;
  readonly partialLogMetadata?: PartialLogMetadata;
}

/** What `ReadLogs` handlers may yield: times as numbers and lines as strings are accepted. */
export interface LogEntryInput {
  readonly source?: string;
  readonly timeNano?: bigint | number;
  readonly line?: Buffer | string;
  readonly partial?: boolean;
  readonly partialLogMetadata?: PartialLogMetadata;
}

/** moby's decoder refuses records above 1e6 bytes (logdriver.maxMsgLen). */
export const MAX_LOG_RECORD = 1_000_000;

const Metadata = new protobuf.Type('PartialLogEntryMetadata')
  .add(new protobuf.Field('last', 1, 'bool'))
  .add(new protobuf.Field('id', 2, 'string'))
  .add(new protobuf.Field('ordinal', 3, 'int32'));
const Entry = new protobuf.Type('LogEntry')
  .add(new protobuf.Field('source', 1, 'string'))
  .add(new protobuf.Field('timeNano', 2, 'int64'))
  .add(new protobuf.Field('line', 3, 'bytes'))
  .add(new protobuf.Field('partial', 4, 'bool'))
  .add(new protobuf.Field('partialLogMetadata', 5, 'PartialLogEntryMetadata'));
new protobuf.Root().define('docker.logentry').add(Metadata).add(Entry);

/** Decodes one protobuf `LogEntry` (without its length prefix). */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  const m = Entry.toObject(Entry.decode(bytes), { longs: String, bytes: Buffer, defaults: true }) as {
    source: string;
    timeNano: string;
    line: Buffer;
    partial: boolean;
    partialLogMetadata?: PartialLogMetadata;
  };
  return {
    source: m.source,
    timeNano: BigInt(m.timeNano),
    line: Buffer.from(m.line),
    partial: m.partial,
    ...(m.partialLogMetadata ? { partialLogMetadata: m.partialLogMetadata } : {}),
  };
}

/** One framed record: length prefix + protobuf. */
export function encodeLogEntry(e: LogEntryInput): Buffer {
  // proto3 as Go writes it: fields holding their default value are left out.
  const line = typeof e.line === 'string' ? Buffer.from(e.line) : e.line;
  const body = Entry.encode(
    Entry.fromObject({
      ...(e.source ? { source: e.source } : {}),
      ...(e.timeNano ? { timeNano: String(e.timeNano) } : {}),
      ...(line?.length ? { line } : {}),
      ...(e.partial ? { partial: true } : {}),
      ...(e.partialLogMetadata ? { partialLogMetadata: e.partialLogMetadata } : {}),
    }),
  ).finish();
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, 4);
  return frame;
}

/** Bytes in, `LogEntry` objects out; a record above `MAX_LOG_RECORD` or a torn last record is an error. */
export class LogEntryDecoder extends Transform {
  #pending: Buffer = Buffer.alloc(0);

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    try {
      while (this.#pending.length >= 4) {
        const size = this.#pending.readUInt32BE(0);
        if (size > MAX_LOG_RECORD)
          throw new Error(`log record of ${size} bytes is larger than ${MAX_LOG_RECORD}`);
        if (this.#pending.length < 4 + size) break;
        this.push(decodeLogEntry(this.#pending.subarray(4, 4 + size)));
        this.#pending = this.#pending.subarray(4 + size);
      }
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    done(
      this.#pending.length
        ? new Error(`log stream ended inside a record (${this.#pending.length} bytes)`)
        : null,
    );
  }
}
