/**
 * Docker's log-driver wire format: each record is a 4-byte big-endian length followed by a protobuf
 * `LogEntry`. The message definition is declared here (not parsed from a file) field for field as moby's
 * `api/types/plugins/logdriver/entry.proto` (Apache-2.0) defines it, and encoded by protobufjs.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';

/** moby `entry.proto`: names, numbers and types as there (proto3). */
const MESSAGES = {
  nested: {
    LogEntry: {
      fields: {
        source: { type: 'string', id: 1 },
        time_nano: { type: 'int64', id: 2 },
        line: { type: 'bytes', id: 3 },
        partial: { type: 'bool', id: 4 },
        partial_log_metadata: { type: 'PartialLogEntryMetadata', id: 5 },
      },
    },
    PartialLogEntryMetadata: {
      fields: {
        last: { type: 'bool', id: 1 },
        id: { type: 'string', id: 2 },
        ordinal: { type: 'int32', id: 3 },
      },
    },
  },
};
// protobufjs loads with the first log entry: a berthd whose plugins use no log driver never needs it.
const requireOnUse = createRequire(import.meta.url);
let logEntryType: protobuf.Type | undefined;
function logEntry(): protobuf.Type {
  const { Root } = requireOnUse('protobufjs') as typeof protobuf;
  logEntryType ??= Root.fromJSON(MESSAGES).lookupType('LogEntry');
  return logEntryType;
}

/** Docker's `PartialLogMetaData`: the pieces of one long line share `id`, count `ordinal` from 1, end `last`. */
export interface PartialMetadata {
  readonly id: string;
  readonly ordinal: number;
  readonly last: boolean;
}

export interface LogEntry {
  readonly source: string;
  /** Nanoseconds since the epoch (a bigint: a float cannot hold them). */
  readonly timeNano: bigint;
  readonly line: Buffer;
  readonly partial: boolean;
  readonly partialMetadata?: PartialMetadata;
}

/** Frames larger than this are refused when decoding (moby's reader limit is 1e6 by default; lines are ≤ 16 KiB). */
export const MAX_FRAME_BYTES = 2 << 20;

/** One record: length prefix + LogEntry. */
export function encodeFrame(e: LogEntry): Buffer {
  const type = logEntry();
  const message = type.fromObject({
    source: e.source,
    time_nano: e.timeNano.toString(),
    line: e.line,
    partial: e.partial,
    ...(e.partialMetadata ? { partial_log_metadata: e.partialMetadata } : {}),
  });
  const body = type.encode(message).finish();
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, 4);
  return frame;
}

/** Decodes one LogEntry body (without its length prefix). */
export function decodeEntry(body: Uint8Array): LogEntry {
  const type = logEntry();
  const o = type.toObject(type.decode(body), { longs: String, defaults: true }) as {
    source: string;
    time_nano: string;
    line: Uint8Array;
    partial: boolean;
    partial_log_metadata?: { last?: boolean; id?: string; ordinal?: number };
  };
  const meta = o.partial_log_metadata;
  return {
    source: o.source,
    timeNano: BigInt(o.time_nano),
    line: Buffer.from(o.line),
    partial: o.partial,
    ...(meta
      ? { partialMetadata: { id: meta.id ?? '', ordinal: meta.ordinal ?? 0, last: meta.last ?? false } }
      : {}),
  };
}

/** Splits a byte stream into frames as they complete. @throws {Error} on a frame over {@link MAX_FRAME_BYTES} */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): LogEntry[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: LogEntry[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readUInt32BE(0);
      if (size > MAX_FRAME_BYTES) throw new Error(`log frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.#pending.length < 4 + size) break;
      out.push(decodeEntry(this.#pending.subarray(4, 4 + size)));
      this.#pending = this.#pending.subarray(4 + size);
    }
    return out;
  }

  /** Bytes of an incomplete frame still held. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
