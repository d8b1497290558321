/**
 * Plugin contexts (`config.json` + `rootfs/`) from a directory or a tar stream (plain or gzip), unpacked into a
 * staging directory. Safety (dependencies.md §3.5): node-tar's defaults refuse `..`, absolute paths and writing
 * through symlinks; device, FIFO and other special entries are refused; symlinks are created afterwards with their
 * verbatim targets (absolute links are normal in a rootfs and must not be rewritten); sizes and entry counts are
 * capped. Anything refused fails the whole unpack with a 400 naming the entries.
 *
 * @module
 */
import {
  cpSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { InvalidParameterError } from '../errdefs/index.ts';
import { errnoOf, fromErrno } from '../host/index.ts';

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
 * Creates the deferred symlinks with their targets unchanged, refusing any whose location escapes `root`.
 * `replace`: a layer may replace what a lower layer put at the same path; in one archive that is refused.
 */
function createSymlinks(root: string, links: readonly [string, string][], replace: boolean): void {
  const realRoot = realpathSync(root);
  for (const [path, target] of links) {
    if (path.split('/').includes('..'))
      throw new InvalidParameterError(`refusing symlink ${path}: its path contains ".."`);
    const at = join(root, path);
    mkdirSync(dirname(at), { recursive: true });
    if (!isInside(realRoot, realpathSync(dirname(at)))) {
      throw new InvalidParameterError(`refusing symlink ${path}: its directory resolves outside the rootfs`);
    }
    if (lstatSync(at, { throwIfNoEntry: false })) {
      if (!replace) {
        throw new InvalidParameterError(
          `refusing symlink ${path}: another entry of the archive has the same path`,
        );
      }
      rmSync(at, { recursive: true, force: true });
    }
    symlinkSync(target, at);
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

/**
 * Gives directories and symlinks their archive mtimes back, deepest first, as Go's archive.Untar does: node-tar
 * sets a directory's time before its children land (which bump it) and berth makes the symlinks itself. Without
 * this, pushing an unchanged plugin would give a new layer digest every time.
 */
function restoreTimes(root: string, times: readonly [string, Date][]): void {
  const realRoot = realpathSync(root);
  const deepestFirst = [...times].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
  for (const [path, mtime] of deepestFirst) {
    const at = join(root, path);
    // Never through a symlinked parent: lutimes follows every component but the last.
    if (!isInside(realRoot, realpathSync(dirname(at)))) continue;
    if (lstatSync(at, { throwIfNoEntry: false })) lutimesSync(at, mtime, mtime);
  }
}

/**
 * Extracts a tar stream (gzip detected) into `cwd` with berth's safety rules.
 * @throws {InvalidParameterError} listing refused entries, or for a limit exceeded or an unreadable archive
 */
async function safeExtract(input: Readable, cwd: string, o: ExtractOptions): Promise<void> {
  mkdirSync(cwd, { recursive: true, mode: 0o700 });
  const symlinks: [string, string][] = [];
  const refused: string[] = [];
  /** Regular files seen so far: the only valid hard-link targets. */
  const files = new Set<string>();
  const times: [string, Date][] = [];
  let entries = 0;
  let contentBytes = 0;
  const extract = tar.x({
    cwd,
    preserveOwner: true,
    filter: (path, entry) => {
      const p = clean(path);
      if (!o.accept(p)) return false;
      entries++;
      const e = entry as tar.ReadEntry;
      if ((e.type === 'Directory' || e.type === 'SymbolicLink') && e.mtime) times.push([p, e.mtime]);
      contentBytes += e.size ?? 0;
      if (entries > o.limits.maxEntries) refused.push(`more than ${o.limits.maxEntries} entries`);
      else if (contentBytes > o.limits.maxContentBytes)
        refused.push(`more than ${o.limits.maxContentBytes} bytes of content`);
      if (o.layer && p.split('/').at(-1)?.startsWith('.wh.')) {
        applyWhiteout(cwd, p);
        return false;
      }
      if (e.type === 'SymbolicLink') {
        symlinks.push([p, e.linkpath ?? '']);
        return false;
      }
      if (e.type === 'Link') {
        // A hard link must name a regular file: one earlier in this archive, or (for a layer) one a lower layer
        // left. Anything else (a directory, itself, a path outside) is refused; node-tar hangs on some of them.
        const target = clean(e.linkpath ?? '');
        const lower =
          o.layer && !target.split('/').includes('..')
            ? lstatSync(join(cwd, target), { throwIfNoEntry: false })
            : undefined;
        if (!files.has(target) && !lower?.isFile()) {
          refused.push(
            `${p} (hard link to ${JSON.stringify(e.linkpath)}, which is not a regular file earlier in the archive)`,
          );
          return false;
        }
      }
      if (e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile') files.add(p);
      if (!ALLOWED_TYPES.has(e.type)) {
        refused.push(`${p} (${e.type}: device, FIFO and special entries are not allowed)`);
        return false;
      }
      return refused.length === 0;
    },
    onwarn: (code, message) => {
      if (code === 'TAR_ENTRY_INFO') return;
      refused.push(`${message} (${code})`);
    },
  });
  try {
    await pipeline(input, byteCap(o.limits.maxBytes), extract);
  } catch (err) {
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError(`failed to read the plugin context as tar: ${(err as Error).message}`);
  }
  if (refused.length) {
    throw new InvalidParameterError(
      `refusing plugin context: ${[...new Set(refused)].slice(0, 10).join('; ')}`,
    );
  }
  createSymlinks(cwd, symlinks, o.layer);
  restoreTimes(cwd, times);
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
