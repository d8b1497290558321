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
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { InvalidParameterError } from '../errdefs/index.ts';

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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
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

/** Creates the deferred symlinks with their targets unchanged, refusing any whose location escapes `root`. */
function createSymlinks(root: string, links: readonly [string, string][]): void {
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
      throw new InvalidParameterError(
        `refusing symlink ${path}: another entry of the archive has the same path`,
      );
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

/**
 * Unpacks a tar stream (gzip detected) into `staging`: `config.json` and `rootfs/**`; other entries are ignored.
 * @throws {InvalidParameterError} listing refused entries, or for a missing config/rootfs or a limit exceeded
 */
export async function unpackTar(
  input: Readable,
  staging: string,
  limits = DEFAULT_UNPACK_LIMITS,
): Promise<UnpackedContext> {
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const symlinks: [string, string][] = [];
  const refused: string[] = [];
  let entries = 0;
  let contentBytes = 0;
  const extract = tar.x({
    cwd: staging,
    preserveOwner: true,
    filter: (path, entry) => {
      const p = clean(path);
      if (p !== 'config.json' && p !== 'rootfs' && !p.startsWith('rootfs/')) return false;
      entries++;
      const e = entry as tar.ReadEntry;
      contentBytes += e.size ?? 0;
      if (entries > limits.maxEntries) refused.push(`more than ${limits.maxEntries} entries`);
      else if (contentBytes > limits.maxContentBytes)
        refused.push(`more than ${limits.maxContentBytes} bytes of content`);
      if (e.type === 'SymbolicLink') {
        symlinks.push([p, e.linkpath ?? '']);
        return false;
      }
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
    await pipeline(input, byteCap(limits.maxBytes), extract);
  } catch (err) {
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError(`failed to read the plugin context as tar: ${(err as Error).message}`);
  }
  if (refused.length) {
    throw new InvalidParameterError(
      `refusing plugin context: ${[...new Set(refused)].slice(0, 10).join('; ')}`,
    );
  }
  const rootfs = join(staging, 'rootfs');
  const manifest = readManifest(join(staging, 'config.json'));
  requireRootfs(rootfs);
  createSymlinks(staging, symlinks);
  return { manifest, rootfs };
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
