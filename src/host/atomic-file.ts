import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of the temp files {@link writeFileAtomicSync} leaves if killed mid-write; safe to delete at start. */
export const ATOMIC_TEMP_PREFIX = '.tmp-';

/**
 * temp + fsync + rename + directory fsync: after a crash the file holds the old or the new content, never a
 * mix or nothing. Synchronous on purpose: used for small files (wrapper scripts, ids) whose write must be
 * complete before the caller goes on; write-file-atomic would add a dependency for the same five syscalls.
 */
export function writeFileAtomicSync(path: string, content: string, mode = 0o644): void {
  const temp = tempPathFor(path);
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
  publish(temp, path);
}

function tempPathFor(path: string): string {
  const name = `${ATOMIC_TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(path), name);
}

/** The commit point: the rename, made durable by an fsync of the directory. */
function publish(temp: string, path: string): void {
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The two halves of {@link prepareFileAtomic}. */
export interface PreparedWrite {
  /** Renames the prepared content over the file and fsyncs the directory. @throws what preparing it threw */
  commit(): Promise<void>;
  /** Drops the prepared content; the file keeps what it had. Never rejects. */
  abandon(): Promise<void>;
}

/**
 * {@link writeFileAtomicSync} in two halves, for a write whose outcome waits on slow work (the state a plugin
 * enable saves once its socket answers): the temp file is written and fsynced now, on the thread pool, while
 * that work runs; `commit()` then does the rename and the directory fsync. The guarantee is the same: until
 * the commit the file holds the old content, after it the new, and a crash in between leaves only a temp file
 * (named with {@link ATOMIC_TEMP_PREFIX}).
 */
export function prepareFileAtomic(path: string, content: string, mode = 0o644): PreparedWrite {
  const temp = tempPathFor(path);
  const written = (async () => {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
  })();
  written.catch(() => undefined); // observed by commit/abandon
  return {
    async commit() {
      try {
        await written;
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      publish(temp, path);
    },
    async abandon() {
      await written.catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
    },
  };
}
