/**
 * A request body that stops arriving ends the request: every body is read through {@link IdleBody}, which fails
 * with a 408 when no data has come for `idleMs` while its reader was waiting for data. A reader that is itself
 * slow (a disk busy unpacking) does not count as idle, but a reader stuck for that long does: no request waits
 * without bound, whatever stalled it. A body berth buffers (JSON, at most 1 MiB) must also arrive within that
 * time in total, so a client dribbling a byte every few seconds is cut too; only streamed uploads (plugin
 * contexts, up to GiBs) may take longer, as long as they keep coming. The connection is closed after the 408.
 *
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import { RequestTimeoutError } from '../errdefs/index.ts';
import { isRawBodyRoute } from './body.ts';
import type { ApiServer } from './server/server.ts';

/** Docker clients give up long before; 60 s of silence in the middle of a body is a dead or hostile client. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 60_000;

export class IdleBody extends Transform {
  readonly #idleMs: number;
  readonly #onTimeout: () => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #total: NodeJS.Timeout | undefined;

  /** @param totalMs when given, the whole body must have arrived by then */
  constructor(idleMs: number, onTimeout: () => void = () => {}, totalMs?: number) {
    super();
    this.#idleMs = idleMs;
    this.#onTimeout = onTimeout;
    this.#arm();
    if (totalMs !== undefined) {
      this.#total = setTimeout(
        () => this.#fail(`request timed out: the request body did not arrive within ${totalMs / 1000} s`),
        totalMs,
      );
      this.#total.unref();
    }
  }

  #fail(message: string): void {
    this.#onTimeout();
    this.destroy(new RequestTimeoutError(message));
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.#fail(`request timed out: no data of the request body arrived for ${this.#idleMs / 1000} s`),
      this.#idleMs,
    );
    this.#timer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#arm();
    done(null, chunk);
  }

  override _read(size: number): void {
    this.#arm(); // the reader asks for more: from now on, waiting is the client's doing
    super._read(size);
  }

  override _flush(done: TransformCallback): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#total);
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#total);
    done(err);
  }
}

/** Reads every request body through an {@link IdleBody} (the server calls the hook only for requests with one). */
export function registerBodyTimeout(app: ApiServer, idleMs: number): void {
  app.addHook('preParsing', (req, reply, payload) => {
    // Streamed uploads (plugin contexts) are told by their route, not by a Content-Type clients may not send.
    const streamed = isRawBodyRoute(req);
    const body = new IdleBody(
      idleMs,
      () => {
        if (!reply.sent) reply.header('connection', 'close');
      },
      streamed ? undefined : idleMs,
    );
    payload.on('error', (err) => body.destroy(err));
    body.on('error', () => {}); // its reader sees the error; a body nobody reads must not crash berthd
    reply.raw.once('close', () => body.destroy());
    return payload.pipe(body);
  });
}
