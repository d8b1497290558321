import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** sun_path is 108 bytes including the NUL. */
export const MAX_SOCKET_PATH = 107;

/** A path that reaches a unix socket, and what to release when done. */
export interface SocketAddress {
  readonly path: string;
  close(): void;
}

/**
 * A connectable path for `<dir>/<name>` whatever the length of `dir`: the path itself when it fits in a
 * sockaddr_un, else `/proc/self/fd/<n>/<name>` through an open descriptor of `dir` (the kernel resolves it
 * like any path, so the length of the real directory no longer matters).
 */
export function socketAddress(dir: string, name: string): SocketAddress {
  const direct = join(dir, name);
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return { path: direct, close: () => undefined };
  const fd = openSync(dir, 'r');
  const viaFd = `/proc/self/fd/${fd}/${name}`;
  if (Buffer.byteLength(viaFd) > MAX_SOCKET_PATH) {
    closeSync(fd);
    throw new Error(`socket name ${name} is too long for a unix socket path`);
  }
  let open = true;
  return {
    path: viaFd,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
