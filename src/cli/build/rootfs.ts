/**
 * A plugin's minimal rootfs: this host's node binary, the shared libraries it links (as ldd lists them) and
 * nothing else, or a base rootfs directory copied as is. Then every entry gets the same mtime, so the same
 * input gives the same tree and the same digest (`rootfsDigest`: a sha256 of a canonical tar of it).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  realpathSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';

/** Library paths in `ldd` output: `libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)` and the loader line. */
export function parseLdd(output: string): string[] {
  const libs = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs].sort();
}

/** The shared libraries `binary` needs, from ldd. */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const text = String((err as { stdout?: string }).stdout ?? '');
    // A static binary: ldd says so and exits 1; it needs no libraries.
    if (/not a dynamic executable|statically linked/.test(text + String((err as { stderr?: string }).stderr)))
      return [];
    throw new SystemError(
      `ldd ${binary} failed: ${(err as Error).message} (is ldd installed? it is in libc-bin)`,
    );
  }
  return parseLdd(out);
}

function copyResolved(source: string, rootfs: string, target: string): void {
  const dest = join(rootfs, target);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(realpathSync(source), dest);
}

/** Puts node at `nodePath` and its libraries at their host paths; returns how many libraries. */
export function installHostNode(rootfs: string, nodePath: string, node = process.execPath): number {
  const binary = realpathSync(node);
  copyResolved(binary, rootfs, nodePath);
  chmodSync(join(rootfs, nodePath), 0o755);
  const libs = sharedLibraries(binary);
  for (const lib of libs) copyResolved(lib, rootfs, lib);
  return libs.length;
}

/** Copies a base rootfs (symlinks kept as links); `nodePath` must be in it. */
export function installBase(rootfs: string, base: string, nodePath: string): void {
  if (!lstatSync(base, { throwIfNoEntry: false })?.isDirectory())
    throw new InvalidParameterError(`--base-rootfs ${base} is not a directory`);
  cpSync(base, rootfs, { recursive: true, verbatimSymlinks: true });
  if (!lstatSync(join(rootfs, nodePath), { throwIfNoEntry: false }))
    throw new InvalidParameterError(
      `--base-rootfs ${base} has no ${nodePath}, which config.json's Entrypoint runs: add node there or change Entrypoint[0]`,
    );
}

/** Every path under `root` (relative, sorted so parents come first), itself excluded. */
export function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      out.push(relative(root, path));
      if (lstatSync(path).isDirectory()) visit(path);
    }
  };
  visit(root);
  return out.sort();
}

/** Sets every entry's mtime and atime (symlinks themselves included) to `epochSeconds`. */
export function pinTimes(root: string, epochSeconds: number): void {
  for (const path of [...walk(root).reverse(), '.'])
    lutimesSync(join(root, path), epochSeconds, epochSeconds);
}

/** sha256 of a canonical tar of `root`: sorted entries, numeric modes, no owners, the given mtime. */
export async function rootfsDigest(
  root: string,
  epochSeconds: number,
): Promise<{ digest: string; files: number; bytes: number }> {
  const entries = walk(root);
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    tar.c({ cwd: root, portable: true, noDirRecurse: true, mtime: new Date(epochSeconds * 1000) }, entries),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        hash.update(chunk);
        bytes += chunk.length;
      }
    },
  );
  return { digest: `sha256:${hash.digest('hex')}`, files: entries.length, bytes };
}
