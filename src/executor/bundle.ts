/**
 * OCI bundles on disk, written in one place for every caller (plugins, `berth run`, runtime probes): a private
 * directory holding `config.json`. The rootfs stays where the caller keeps it (the spec names it).
 *
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../oci/index.ts';

/**
 * Writes `spec` (or its JSON, already serialised) as `<dir>/config.json`; the directory is created private
 * (0700: specs name host paths).
 */
export function writeBundle(dir: string, spec: Spec | string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  return dir;
}

/** Removes a bundle directory and everything in it; a missing one is fine. */
export function removeBundle(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
