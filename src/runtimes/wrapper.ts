/**
 * Wrapper scripts for runtimes configured with `runtimeArgs`: what a containerd shim (or anything that takes
 * one binary name) executes. Unlike moby's, every word is single-quoted, the runtime is `exec`ed (no shell left
 * as parent, signals reach the runtime) and `"$@"` is quoted, so arguments round-trip byte for byte.
 *
 * Scripts are content-addressed and immutable: `<dir>/<name>.<sha256 of content>`, written to a temp file,
 * fsynced and renamed. A running container keeps its script whatever reloads happen, a concurrent start never
 * sees a partial file, and a kill -9 at any point leaves only complete scripts (plus temp files removed at start).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidParameterError } from '../errdefs/index.ts';
import { writeFileAtomicSync } from '../host/index.ts';
import { runtimeNameProblem } from './names.ts';

/** POSIX shell single quoting: `it's` → `'it'\''s'`. Safe for every byte string without NUL. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The script that runs `path` with `args` before the caller's arguments. */
export function wrapperScript(path: string, args: readonly string[]): string {
  return `#!/bin/sh\nexec ${[path, ...args].map(shellQuote).join(' ')} "$@"\n`;
}

/** The file name of a runtime's wrapper: its name plus the hash of the content. */
export function wrapperFileName(name: string, content: string): string {
  const problem = runtimeNameProblem(name);
  if (problem)
    throw new InvalidParameterError(
      `refusing wrapper for invalid runtime name ${JSON.stringify(name)}: ${problem}`,
    );
  return `${name}.${createHash('sha256').update(content).digest('hex')}`;
}

/**
 * Writes the wrapper for a runtime into `dir` unless an identical one is there, and returns its path.
 * Atomic: temp file + fsync + rename + directory fsync.
 */
export function writeWrapper(dir: string, name: string, path: string, args: readonly string[]): string {
  const content = wrapperScript(path, args);
  const target = join(dir, wrapperFileName(name, content));
  if (statSync(target, { throwIfNoEntry: false })?.isFile()) return target;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(target, content, 0o700);
  return target;
}

/**
 * Removes temp files left by an interrupted write and every script not in `keep` (full paths). Called at daemon
 * start only, before any container can reference an old script.
 */
export function pruneWrappers(dir: string, keep: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (keep.has(path)) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}
