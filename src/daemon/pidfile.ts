/**
 * dockerd-style pid files: one berthd per pid file and per data root. The file is created with link(2), which
 * is atomic and fails when it exists, so two daemons starting together cannot both win; a file left by a
 * dead process (kill -9) is recognised and replaced, and so is one whose pid is a zombie not yet reaped (a
 * supervisor restarting berthd right after kill -9) or now belongs to another program (pid reuse).
 *
 * @module
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError } from '../errdefs/index.ts';

/** berthd's command line: `berthd`, `bin/berthd.js`, or the entry module run directly (`daemon/entry.js`). */
const BERTHD_ARG = /(^|\/)berthd(\.[cm]?js)?$|(^|\/)daemon\/entry\.[jt]s$/;

/**
 * Whether pid N is still a berthd: not a zombie (`/proc/N/stat` state Z or X: it is dead, only its exit status
 * waits to be reaped) and with a command line that runs berthd. Without /proc we cannot tell: assume it is.
 */
export function isBerthdProcess(pid: number, proc = '/proc'): boolean {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`${proc}/${pid}/cmdline`, 'utf8');
  } catch (err) {
    // ENOENT with /proc mounted: the process is gone.
    return !((err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(`${proc}/self`));
  }
  // The state follows the command name in parentheses, which may itself contain ") ".
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return cmdline.split('\0').some((arg) => BERTHD_ARG.test(arg));
}

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
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return isBerthdProcess(pid) ? pid : undefined;
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
        rmSync(path, { force: true }); // stale: its process is gone, a zombie, or not berthd
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
