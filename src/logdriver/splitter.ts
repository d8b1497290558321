/**
 * Turns a workload's output stream into log messages exactly as moby's `logger.Copier` does for a driver
 * without its own buffer size: one message per `\n`-terminated line (without the `\n`); a run of 16 KiB
 * without a newline becomes a partial message of exactly 16 KiB; the rest of that line, up to its newline,
 * ends the series (`last`). All pieces of a series share the first piece's id and timestamp, ordinals count
 * from 1. At end of stream an unterminated remainder is sent as a partial that is not `last` (Docker's
 * behaviour, kept so drivers see what they see from dockerd).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PartialMetadata } from './entry.ts';

/** moby `daemon/logger/copier.go` `defaultBufSize`. */
export const PARTIAL_SPLIT_BYTES = 16 * 1024;

export interface LogMessage {
  readonly line: Buffer;
  readonly timeNano: bigint;
  readonly partial?: PartialMetadata;
}

const nowNano = () => BigInt(Date.now()) * 1_000_000n;

export class LineSplitter {
  readonly #limit: number;
  readonly #clock: () => bigint;
  #pending: Buffer = Buffer.alloc(0);
  #series: { id: string; ordinal: number; timeNano: bigint } | undefined;

  constructor(o: { limit?: number; clock?: () => bigint } = {}) {
    this.#limit = o.limit ?? PARTIAL_SPLIT_BYTES;
    this.#clock = o.clock ?? nowNano;
  }

  push(chunk: Buffer): LogMessage[] {
    const out: LogMessage[] = [];
    let data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      const nl = data.indexOf(0x0a);
      if (nl >= 0 && nl < this.#limit) {
        out.push(this.#message(Buffer.from(data.subarray(0, nl)), true));
        data = data.subarray(nl + 1);
      } else if (data.length >= this.#limit) {
        out.push(this.#message(Buffer.from(data.subarray(0, this.#limit)), false));
        data = data.subarray(this.#limit);
      } else break;
    }
    this.#pending = Buffer.from(data);
    return out;
  }

  /** End of stream: what is left becomes a partial that is not last. */
  end(): LogMessage[] {
    if (this.#pending.length === 0) return [];
    const rest = this.#message(this.#pending, false);
    this.#pending = Buffer.alloc(0);
    this.#series = undefined;
    return [rest];
  }

  /** `terminated`: the piece ends at a newline (a whole line, or the last piece of a series). */
  #message(line: Buffer, terminated: boolean): LogMessage {
    if (terminated && !this.#series) return { line, timeNano: this.#clock() };
    this.#series ??= { id: randomBytes(32).toString('hex'), ordinal: 1, timeNano: this.#clock() };
    const s = this.#series;
    const partial = { id: s.id, ordinal: s.ordinal, last: terminated };
    s.ordinal++;
    if (terminated) this.#series = undefined;
    return { line, timeNano: s.timeNano, partial };
  }
}
