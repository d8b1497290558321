/**
 * The FIFO a log driver reads. Node has no mkfifo(3) binding, so the FIFO is made with coreutils'
 * `mkfifo` (one short process per run start; adding a native addon for one syscall is not worth it). berth
 * opens it O_RDWR | O_NONBLOCK: on Linux that never waits for a reader (dockerd's O_WRONLY open would), and
 * a full pipe answers EAGAIN, which libuv turns into back-pressure on the returned socket instead of blocking
 * a thread.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { SystemError } from '../errdefs/index.ts';

const run = promisify(execFile);

/** Creates the FIFO at `path` (mode 0600, its directory 0700). */
export async function makeFifo(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await run('mkfifo', ['-m', '0600', path], { timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new SystemError(`cannot create log FIFO ${path}: ${(e.stderr || e.message).trim()}`);
  }
}

/** A write-only stream on the FIFO that never blocks the event loop. */
export function openFifoWriter(path: string): Socket {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    return new Socket({ fd, readable: false, writable: true });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
