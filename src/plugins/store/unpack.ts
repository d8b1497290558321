/**
 * Plugin contexts (`config.json` + `rootfs/`) from a directory or a tar stream (plain or gzip), unpacked into a
 * staging directory. Safety (dependencies.md §3.5): node-tar's defaults refuse `..`, absolute paths and writing
 * through symlinks; device, FIFO and other special entries are refused; symlinks are created afterwards with their
 * verbatim targets (absolute links are normal in a rootfs and must not be rewritten); hard links only to regular
 * files earlier in the archive; sizes and entry counts are capped while streaming, in constant memory. Anything refused fails the whole unpack with a 400 naming the entries.
 *
 * @module
 */
import {
  closeSync,
  cpSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { BerthError, InvalidParameterError } from '../../errdefs/index.ts';
import { errnoOf, fromErrno } from '../../host/index.ts';

/** Limits of one unpack. */
export interface UnpackLimits {
  /** Bytes read from the stream (compressed size). */
  readonly maxBytes: number;
  /** Sum of the entries' sizes (uncompressed). */
  readonly maxContentBytes: number;
  readonly maxEntries: number;
}

export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxBytes: 4 * 1024 ** 3,
  maxContentBytes: 8 * 1024 ** 3,
  maxEntries: 500_000,
};

/** What an unpack produced: the raw manifest and the rootfs directory. */
export interface UnpackedContext {
  readonly manifest: unknown;
  readonly rootfs: string;
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'Link']);

function readManifest(path: string): unknown {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isSymbolicLink())
    throw new InvalidParameterError('refusing plugin context: config.json is a symlink');
  if (st?.isDirectory())
    throw new InvalidParameterError('refusing plugin context: config.json is a directory, it must be a file');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw fromErrno(err, 'cannot read config.json of the plugin context');
    throw new InvalidParameterError(
      'config not found: the plugin context needs a config.json next to rootfs/',
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(`config.json is not valid JSON: ${(err as Error).message}`);
  }
}

function requireRootfs(rootfs: string): void {
  if (lstatSync(rootfs, { throwIfNoEntry: false })?.isSymbolicLink())
    throw new InvalidParameterError('refusing plugin context: rootfs is a symlink, it must be a directory');
  if (!statSync(rootfs, { throwIfNoEntry: false })?.isDirectory() || readdirSync(rootfs).length === 0) {
    throw new InvalidParameterError(
      'no rootfs found: the plugin context needs a non-empty rootfs/ directory',
    );
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * Symlinks are created after the archive is extracted, with their targets unchanged, so nothing can be written
 * through them. They wait in a spool file beside the extraction, not in memory: an archive of a million links
 * costs disk, not RSS.
 */
class LinkSpool {
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
function isHardLinkTarget(root: string, realRoot: string, target: string): boolean {
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
function createSymlinks(root: string, spool: LinkSpool, replace: boolean): void {
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
function restoreTimes(root: string, times: LinkSpool): void {
  const realRoot = realpathSync(root);
  for (const { path, target: ms } of times.entries()) {
    const at = join(root, path);
    // Never through a symlinked parent: lutimes follows every component but the last.
    if (!isInside(realRoot, realpathSync(dirname(at)))) continue;
    const mtime = new Date(Number(ms));
    if (lstatSync(at, { throwIfNoEntry: false })) lutimesSync(at, mtime, mtime);
  }
}

/** Counts stream bytes and fails past `max`. */
function byteCap(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new InvalidParameterError(`plugin context is larger than ${max} bytes`));
      else done(null, chunk);
    },
  });
}

const clean = (p: string) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

interface ExtractOptions {
  /** Which archive paths to extract (others are skipped). */
  readonly accept: (path: string) => boolean;
  /** Image-layer rules: whiteouts delete lower content, entries may replace lower ones. */
  readonly layer: boolean;
  readonly limits: UnpackLimits;
}

/** Applies a layer whiteout (`.wh.name` deletes name, `.wh..wh..opq` empties the directory) under `root`. */
function applyWhiteout(root: string, path: string): void {
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

/** At most this many refused entries are named (and kept). */
const MAX_REFUSED = 10;

/**
 * Extracts a tar stream (gzip detected) into `cwd` with berth's safety rules. Memory stays constant whatever the
 * archive holds: entries are written synchronously as they are parsed (node-tar's async unpack queues every small
 * file it has not written yet, ~4 KB each), links wait in a spool file, and the first entry past a limit stops
 * the extraction. The input itself is not destroyed, so the caller can still drain it and answer.
 * @throws {InvalidParameterError} listing refused entries, or for a limit exceeded or an unreadable archive
 */
async function safeExtract(input: Readable, cwd: string, o: ExtractOptions): Promise<void> {
  mkdirSync(cwd, { recursive: true, mode: 0o700 });
  const realCwd = realpathSync(cwd);
  const spool = new LinkSpool(cwd);
  const times = new LinkSpool(cwd, 'times');
  const refused = new Set<string>();
  const refuse = (why: string) => {
    if (refused.size < MAX_REFUSED) refused.add(why);
  };
  let over: InvalidParameterError | undefined;
  let entries = 0;
  let contentBytes = 0;
  const extract = new tar.UnpackSync({
    cwd,
    preserveOwner: true,
    filter: (path, entry) => {
      const p = clean(path);
      if (over || !o.accept(p)) return false;
      const e = entry as tar.ReadEntry;
      entries++;
      contentBytes += e.size ?? 0;
      if (entries > o.limits.maxEntries)
        over = new InvalidParameterError(`refusing plugin context: more than ${o.limits.maxEntries} entries`);
      else if (contentBytes > o.limits.maxContentBytes)
        over = new InvalidParameterError(
          `refusing plugin context: more than ${o.limits.maxContentBytes} bytes of content`,
        );
      if (over) {
        extract.abort(over);
        return false;
      }
      if (o.layer && p.split('/').at(-1)?.startsWith('.wh.')) {
        applyWhiteout(cwd, p);
        return false;
      }
      if ((e.type === 'Directory' || e.type === 'SymbolicLink') && e.mtime)
        times.add(p, String(e.mtime.getTime()));
      if (e.type === 'SymbolicLink') {
        spool.add(p, e.linkpath ?? '');
        return false;
      }
      if (e.type === 'Link' && !isHardLinkTarget(cwd, realCwd, e.linkpath ?? '')) {
        refuse(
          `${p} (hard link to ${JSON.stringify(e.linkpath)}, which is not a regular file earlier in the archive)`,
        );
        return false;
      }
      if (!ALLOWED_TYPES.has(e.type)) {
        refuse(`${p} (${e.type}: device, FIFO and special entries are not allowed)`);
        return false;
      }
      return refused.size === 0;
    },
    onwarn: (code, message) => {
      if (code === 'TAR_ENTRY_INFO' || code === 'TAR_ABORT') return;
      refuse(`${message} (${code})`);
      // A failed write (ENOSPC…) fails the unpack anyway: stop now. Going on, node-tar's sync unpack calls its
      // error path once per remaining chunk of the entry, its pending count goes negative and it never ends.
      if (code === 'TAR_ENTRY_ERROR' && !over) {
        over = new InvalidParameterError(`refusing plugin context: ${[...refused].join('; ')}`);
        extract.abort(over);
      }
    },
  });
  try {
    // The PassThrough is what a failed pipeline destroys; `input` is only unpiped from it (its errors, such as
    // a request body timing out, still fail the unpack).
    const source = new PassThrough();
    const forward = (err: Error) => source.destroy(err);
    input.on('error', forward);
    await pipeline(input.pipe(source), byteCap(o.limits.maxBytes), extract).finally(() =>
      input.off('error', forward),
    );
  } catch (err) {
    spool.close();
    times.close();
    if (over) throw over;
    if (err instanceof BerthError) throw err;
    throw new InvalidParameterError(`failed to read the plugin context as tar: ${(err as Error).message}`);
  }
  try {
    if (over) throw over;
    if (refused.size) throw new InvalidParameterError(`refusing plugin context: ${[...refused].join('; ')}`);
    createSymlinks(cwd, spool, o.layer);
    restoreTimes(cwd, times);
  } finally {
    spool.close();
    times.close();
  }
}

/**
 * Unpacks a plugin context tar (gzip detected) into `staging`: `config.json` and `rootfs/**`; other entries are
 * ignored.
 * @throws {InvalidParameterError} listing refused entries, or for a missing config/rootfs or a limit exceeded
 */
export async function unpackTar(
  input: Readable,
  staging: string,
  limits = DEFAULT_UNPACK_LIMITS,
): Promise<UnpackedContext> {
  await safeExtract(input, staging, {
    accept: (p) => p === 'config.json' || p === 'rootfs' || p.startsWith('rootfs/'),
    layer: false,
    limits,
  });
  const rootfs = join(staging, 'rootfs');
  const manifest = readManifest(join(staging, 'config.json'));
  requireRootfs(rootfs);
  return { manifest, rootfs };
}

/**
 * Extracts one image layer (plain or gzip tar) over `rootfs`, applying whiteouts; same safety rules as a
 * plugin context.
 * @throws {InvalidParameterError} listing refused entries, or for a limit exceeded or an unreadable layer
 */
export async function extractLayer(
  input: Readable,
  rootfs: string,
  limits = DEFAULT_UNPACK_LIMITS,
): Promise<void> {
  await safeExtract(input, rootfs, { accept: (p) => p !== '' && p !== '.', layer: true, limits });
}

/**
 * Copies a plugin directory (`config.json` + `rootfs/`) into `staging`, symlinks verbatim.
 * @throws {InvalidParameterError} for a missing config/rootfs or a special file in the rootfs
 */
export function unpackDirectory(dir: string, staging: string): UnpackedContext {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InvalidParameterError(`plugin context ${dir} is not a directory`);
  }
  const manifest = readManifest(join(dir, 'config.json'));
  requireRootfs(join(dir, 'rootfs'));
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const rootfs = join(staging, 'rootfs');
  const special: string[] = [];
  cpSync(join(dir, 'rootfs'), rootfs, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (src) => {
      const st = lstatSync(src);
      if (st.isFile() || st.isDirectory() || st.isSymbolicLink()) return true;
      special.push(src);
      return false;
    },
  });
  if (special.length) {
    throw new InvalidParameterError(
      `refusing plugin context: special files in rootfs: ${special.slice(0, 10).join(', ')}`,
    );
  }
  return { manifest, rootfs };
}
