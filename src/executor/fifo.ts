/**
 * Named pipes for a container's stdio when containerd's shim writes it (the shim opens them by path).
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A FIFO read end that sees EOF only when every writer is gone; `hold` keeps one writer until the task exists. */
export async function openFifo(path: string): Promise<{ stream: Readable; hold: number }> {
  // Node has no mkfifo(3); coreutils' mkfifo is one short process per container start.
  await run('mkfifo', ['-m', '0600', path], { timeout: 10_000 });
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const hold = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return { stream: new Socket({ fd, readable: true, writable: false }), hold };
}

/** An existing FIFO (a task that outlived berthd still writes to it): its read end again. */
export function reopenFifo(path: string): Readable | undefined {
  try {
    return new Socket({
      fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
      readable: true,
      writable: false,
    });
  } catch {
    return undefined;
  }
}
