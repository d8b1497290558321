/**
 * Plugin contexts (`config.json` + `rootfs/`) from a directory or a tar stream (plain or gzip), unpacked into a
 * staging directory. Safety (dependencies.md §3.5): node-tar's defaults refuse `..`, absolute paths and writing
 * through symlinks; device, FIFO and other special entries are refused; symlinks are created afterwards with their
 * verbatim targets (absolute links are normal in a rootfs and must not be rewritten); hard links only to regular
 * files earlier in the archive; sizes and entry counts are capped while streaming, in constant memory. Anything refused fails the whole unpack with a 400 naming the entries.
 *
 * @module
 */
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar';
import { BerthError, InvalidParameterError } from '../../errdefs/index.ts';
import { countBulkBytes, errnoOf, fromErrno } from '../../host/index.ts';
import { applyWhiteout, createSymlinks, isHardLinkTarget, LinkSpool, restoreTimes } from './links.ts';

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

const COMPRESSED_MAGIC = [Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]; // gzip, zstd

/** Whether a stream's first bytes (up to 4: a first chunk can be shorter) begin one that node-tar inflates. */
export function startsCompressed(head: Buffer): boolean {
  return COMPRESSED_MAGIC.some((m) => head.subarray(0, m.length).equals(m.subarray(0, head.length)));
}

/**
 * Counts stream bytes and fails past `max`; the bytes also pace the scavenges that free the chunks read. Notes in
 * `run` whether the stream is compressed (its first bytes), whose inflated pieces are garbage of their own.
 */
function byteCap(max: number, run: ExtractRun): Transform {
  let seen = 0;
  let head = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (head.length < 4) {
        head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
        run.inflated = startsCompressed(head);
      }
      seen += chunk.length;
      countBulkBytes(chunk.length);
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
  const run: ExtractRun = {
    cwd,
    realCwd: realpathSync(cwd),
    o,
    spool: new LinkSpool(cwd),
    times: new LinkSpool(cwd, 'times'),
    refused: new Set<string>(),
    over: undefined,
    entries: 0,
    contentBytes: 0,
    inflated: false,
    abort: () => undefined,
  };
  // node-tar loads with the first unpack (create, install, upgrade): an idle berthd does not keep it.
  const { UnpackSync } = await import('tar');
  const extract = new UnpackSync({
    cwd,
    preserveOwner: true,
    filter: (path, entry) => filterEntry(run, path, entry as tar.ReadEntry),
    onwarn: (code, message) => onWarning(run, code, message),
    // Inflated content counts toward the scavenges too (a 4:1 layer is 4 MiB of new pieces per MiB read). Not
    // a stream of its own: a listener beside the file writer's, added before any of the entry's data (node-tar
    // announces an entry before its body; an entry holding data already is left uncounted, as a new listener
    // would take that data past the file writer).
    transform: (entry) => {
      if (run.inflated && entry.bufferLength === 0)
        entry.on('data', (piece: Buffer) => countBulkBytes(piece.length));
      return undefined;
    },
  });
  run.abort = (err) => extract.abort(err);
  await pump(input, run, extract);
  try {
    if (run.over) throw run.over;
    if (run.refused.size) throw refusedError(run);
    createSymlinks(cwd, run.spool, o.layer);
    restoreTimes(cwd, run.times);
  } finally {
    run.spool.close();
    run.times.close();
  }
}

/** What one extraction has seen so far. */
interface ExtractRun {
  readonly cwd: string;
  readonly realCwd: string;
  readonly o: ExtractOptions;
  /** Symlinks, created after extraction. */
  readonly spool: LinkSpool;
  /** Directory and symlink times, restored after extraction. */
  readonly times: LinkSpool;
  readonly refused: Set<string>;
  /** The limit exceeded (or write failed), which stopped the extraction. */
  over: InvalidParameterError | undefined;
  entries: number;
  contentBytes: number;
  /** The stream is gzip or zstd: node-tar inflates it into pieces of its own. */
  inflated: boolean;
  abort: (err: Error) => void;
}

function refuse(run: ExtractRun, why: string): void {
  if (run.refused.size < MAX_REFUSED) run.refused.add(why);
}

function refusedError(run: ExtractRun): InvalidParameterError {
  return new InvalidParameterError(`refusing plugin context: ${[...run.refused].join('; ')}`);
}

/** Counts an entry against the limits; the first one past them stops the extraction. */
function overLimits(run: ExtractRun, e: tar.ReadEntry): boolean {
  const { maxEntries, maxContentBytes } = run.o.limits;
  run.entries++;
  run.contentBytes += e.size ?? 0;
  if (run.entries > maxEntries)
    run.over = new InvalidParameterError(`refusing plugin context: more than ${maxEntries} entries`);
  else if (run.contentBytes > maxContentBytes)
    run.over = new InvalidParameterError(
      `refusing plugin context: more than ${maxContentBytes} bytes of content`,
    );
  if (run.over) run.abort(run.over);
  return run.over !== undefined;
}

/** node-tar's filter: whether to write the entry now. Whiteouts and links are dealt with here, not written. */
function filterEntry(run: ExtractRun, path: string, e: tar.ReadEntry): boolean {
  const p = clean(path);
  if (run.over || !run.o.accept(p)) return false;
  if (overLimits(run, e)) return false;
  if (run.o.layer && p.split('/').at(-1)?.startsWith('.wh.')) {
    applyWhiteout(run.cwd, p);
    return false;
  }
  if ((e.type === 'Directory' || e.type === 'SymbolicLink') && e.mtime)
    run.times.add(p, String(e.mtime.getTime()));
  if (e.type === 'SymbolicLink') {
    run.spool.add(p, e.linkpath ?? '');
    return false;
  }
  if (e.type === 'Link' && !isHardLinkTarget(run.cwd, run.realCwd, e.linkpath ?? '')) {
    refuse(
      run,
      `${p} (hard link to ${JSON.stringify(e.linkpath)}, which is not a regular file earlier in the archive)`,
    );
    return false;
  }
  if (!ALLOWED_TYPES.has(e.type)) {
    refuse(run, `${p} (${e.type}: device, FIFO and special entries are not allowed)`);
    return false;
  }
  return run.refused.size === 0;
}

function onWarning(run: ExtractRun, code: string, message: string): void {
  if (code === 'TAR_ENTRY_INFO' || code === 'TAR_ABORT') return;
  refuse(run, `${message} (${code})`);
  // A failed write (ENOSPC…) fails the unpack anyway: stop now. Going on, node-tar's sync unpack calls its
  // error path once per remaining chunk of the entry, its pending count goes negative and it never ends.
  if (code === 'TAR_ENTRY_ERROR' && !run.over) {
    run.over = refusedError(run);
    run.abort(run.over);
  }
}

/** Streams `input` through the byte cap into the extraction. @throws {InvalidParameterError} what stopped it */
async function pump(input: Readable, run: ExtractRun, extract: tar.UnpackSync): Promise<void> {
  try {
    // The PassThrough is what a failed pipeline destroys; `input` is only unpiped from it (its errors, such as
    // a request body timing out, still fail the unpack).
    const source = new PassThrough();
    const forward = (err: Error) => source.destroy(err);
    input.on('error', forward);
    await pipeline(input.pipe(source), byteCap(run.o.limits.maxBytes, run), extract).finally(() =>
      input.off('error', forward),
    );
  } catch (err) {
    run.spool.close();
    run.times.close();
    if (run.over) throw run.over;
    if (err instanceof BerthError) throw err;
    throw new InvalidParameterError(`failed to read the plugin context as tar: ${(err as Error).message}`);
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
