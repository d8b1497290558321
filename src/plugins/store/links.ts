/**
 * Links and whiteouts of an unpack, applied after the archive is extracted so nothing is written through a link:
 * symlinks and directory times wait in spool files, hard links may point only at regular files already there,
 * and nothing lands outside the extraction root.
 *
 * @module
 */
import {
  closeSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { InvalidParameterError } from '../../errdefs/index.ts';

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * Symlinks are created after the archive is extracted, with their targets unchanged, so nothing can be written
 * through them. They wait in a spool file beside the extraction, not in memory: an archive of a million links
 * costs disk, not RSS.
 */
export class LinkSpool {
  readonly #path: string;
  readonly #fd: number;

  constructor(cwd: string, kind = 'links') {
    this.#path = `${cwd}.${kind}-${process.pid}-${Date.now()}`;
    this.#fd = openSync(this.#path, 'wx+', 0o600);
  }

  /** Tar paths cannot contain NUL, so NUL separates the fields. */
  add(path: string, target: string): void {
    writeSync(this.#fd, `${path}\0${target}\0`);
  }

  /** The recorded links, in archive order, read back in 64 KiB pieces. */
  *entries(): Generator<{ path: string; target: string }> {
    const buf = Buffer.alloc(1 << 16);
    let fields: string[] = [];
    let rest = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = readSync(this.#fd, buf, 0, buf.length, pos);
      if (n === 0) return;
      pos += n;
      let data = Buffer.concat([rest, buf.subarray(0, n)]);
      for (let nul = data.indexOf(0); nul >= 0; nul = data.indexOf(0)) {
        fields.push(data.subarray(0, nul).toString('utf8'));
        data = data.subarray(nul + 1);
        if (fields.length === 2) {
          yield { path: fields[0] as string, target: fields[1] as string };
          fields = [];
        }
      }
      rest = Buffer.from(data);
    }
  }

  close(): void {
    closeSync(this.#fd);
    rmSync(this.#path, { force: true });
  }
}

/** Where a link at archive path `path` goes, refusing a location outside `root` or taken (unless `replace`). */
function linkLocation(root: string, realRoot: string, path: string, replace: boolean, what: string): string {
  if (path.split('/').includes('..'))
    throw new InvalidParameterError(`refusing ${what} ${path}: its path contains ".."`);
  const at = join(root, path);
  mkdirSync(dirname(at), { recursive: true });
  if (!isInside(realRoot, realpathSync(dirname(at)))) {
    throw new InvalidParameterError(`refusing ${what} ${path}: its directory resolves outside the rootfs`);
  }
  if (lstatSync(at, { throwIfNoEntry: false })) {
    if (!replace) {
      throw new InvalidParameterError(
        `refusing ${what} ${path}: another entry of the archive has the same path`,
      );
    }
    rmSync(at, { recursive: true, force: true });
  }
  return at;
}

/**
 * Whether a hard link to `target` names a regular file already inside the root: one earlier in this archive
 * (entries are written synchronously, so it is on disk by now) or, for a layer, one a lower layer left. Anything
 * else (a directory, a symlink, itself, a later entry, a path outside) is refused; node-tar hangs on some of them.
 */
export function isHardLinkTarget(root: string, realRoot: string, target: string): boolean {
  const rel = target.replace(/^\/+/, '');
  if (rel === '' || rel.split('/').includes('..')) return false;
  const at = join(root, rel);
  try {
    if (!isInside(realRoot, realpathSync(dirname(at)))) return false;
  } catch {
    return false;
  }
  return lstatSync(at, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Creates the spooled symlinks. `replace`: a layer may replace what a lower layer put at the same path. */
export function createSymlinks(root: string, spool: LinkSpool, replace: boolean): void {
  const realRoot = realpathSync(root);
  for (const link of spool.entries())
    symlinkSync(link.target, linkLocation(root, realRoot, link.path, replace, 'symlink'));
}

/**
 * Gives directories and symlinks their archive mtimes back, as Go's archive.Untar does: node-tar sets a
 * directory's time before its children land (which bump it) and berth makes the symlinks itself. Without this,
 * pushing an unchanged plugin would give a new layer digest every time. Runs after every entry and link exists;
 * setting a child's time does not touch its parent's, so the order does not matter. The times wait in a spool
 * file like the links (an archive may hold as many directories as entries).
 */
export function restoreTimes(root: string, times: LinkSpool): void {
  const realRoot = realpathSync(root);
  for (const { path, target: ms } of times.entries()) {
    const at = join(root, path);
    // Never through a symlinked parent: lutimes follows every component but the last.
    if (!isInside(realRoot, realpathSync(dirname(at)))) continue;
    const mtime = new Date(Number(ms));
    if (lstatSync(at, { throwIfNoEntry: false })) lutimesSync(at, mtime, mtime);
  }
}

/** Applies a layer whiteout (`.wh.name` deletes name, `.wh..wh..opq` empties the directory) under `root`. */
export function applyWhiteout(root: string, path: string): void {
  const dir = dirname(path);
  const name = path.slice(dir === '.' ? 0 : dir.length + 1);
  const target = join(root, dir);
  if (!isInside(root, target) || path.split('/').includes('..')) return;
  if (name === '.wh..wh..opq') {
    for (const child of readdirSync(target, { withFileTypes: true }))
      rmSync(join(target, child.name), { recursive: true, force: true });
  } else {
    rmSync(join(target, name.slice(4)), { recursive: true, force: true });
  }
}
