import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Prefix of the temp files {@link writeFileAtomicSync} leaves if killed mid-write; safe to delete at start. */
export const ATOMIC_TEMP_PREFIX = '.tmp-';

/**
 * temp + fsync + rename + directory fsync: after a crash the file holds the old or the new content, never a
 * mix or nothing. Synchronous on purpose: used for small files (wrapper scripts, ids) whose write must be
 * complete before the caller goes on; write-file-atomic would add a dependency for the same five syscalls.
 */
export function writeFileAtomicSync(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  const temp = join(
    dir,
    `${ATOMIC_TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
