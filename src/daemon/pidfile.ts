/**
 * dockerd-style pid files: one berthd per pid file and per data root. The file is created with link(2), which
 * is atomic and fails when it exists, so two daemons starting together cannot both win; a file left by a
 * dead process (kill -9) is recognised and replaced.
 *
 * @module
 */
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError } from '../errdefs/index.ts';

function alivePid(path: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
  return pid;
}

/**
 * Writes this process's pid to `path`.
 * @throws {ConflictError} when a live process holds it
 */
export function claimPidFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temp, path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = alivePid(path);
        if (holder !== undefined) {
          throw new ConflictError(
            `pid file found, ensure berthd is not running or delete ${path} (held by process ${holder})`,
          );
        }
        rmSync(path, { force: true }); // stale: its process is gone
      }
    }
    throw new ConflictError(`could not claim pid file ${path}: another berthd is starting`);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Removes the pid file if it is still ours. */
export function releasePidFile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // already gone
  }
}
