import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { errnoOf, fromErrno } from '../../host/index.ts';

/**
 * An append-only log file that never grows past `maxBytes`: when it would, it becomes `<path>.1` (the previous
 * `.1` is dropped) and a new file starts. So a plugin's logs take at most 2 × maxBytes on disk.
 */
export class CappedLog {
  readonly path: string;
  readonly maxBytes: number;
  #fd: number;
  #size: number;

  constructor(path: string, maxBytes: number) {
    this.path = path;
    this.maxBytes = maxBytes;
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = statSync(path).size;
  }

  write(chunk: Buffer): void {
    if (this.#size + chunk.length > this.maxBytes && this.#size > 0) this.#rotate();
    writeSync(this.#fd, chunk);
    this.#size += chunk.length;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #rotate(): void {
    closeSync(this.#fd);
    renameSync(this.path, `${this.path}.1`);
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = 0;
  }
}

/** The whole retained log: the rotated part, then the current file. */
export function readCappedLog(path: string): Buffer {
  const parts: Buffer[] = [];
  for (const p of [`${path}.1`, path]) {
    try {
      parts.push(readFileSync(p));
    } catch (err) {
      // An absent part is no log yet; anything else (EACCES, EIO) is a real failure, not "empty".
      if (errnoOf(err) !== 'ENOENT') throw fromErrno(err, `cannot read plugin log ${p}`);
    }
  }
  return Buffer.concat(parts);
}

/**
 * Yields a log's retained content, then whatever is appended, until `signal` aborts. Polls the file size
 * (200 ms), which also notices rotation (the file shrinks or is replaced).
 */
export async function* followCappedLog(path: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  const initial = readCappedLog(path);
  if (initial.length) yield initial;
  let offset = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  let ino = statSync(path, { throwIfNoEntry: false })?.ino;
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.ino !== ino || st.size < offset) {
      offset = 0; // rotated: the new file starts from zero
      ino = st.ino;
    }
    if (st.size > offset) {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(st.size - offset);
        readSync(fd, buf, 0, buf.length, offset);
        offset = st.size;
        yield buf;
      } finally {
        closeSync(fd);
      }
    }
  }
}
