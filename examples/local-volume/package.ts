/**
 * The examples and test fixtures as plugin directories (`config.json` + `rootfs/`), built the way
 * `berth plugin build` builds them (the host's node + its libraries + the bundled program).
 *
 *   node bin/berth.js plugin build examples/local-volume      (what users run; writes examples/local-volume/build)
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/cli/build/index.ts';

const HERE = new URL('.', import.meta.url).pathname;

export interface PackageOptions {
  /** TypeScript (or JavaScript) source of the plugin program. */
  readonly source: string;
  /** The manifest. */
  readonly manifest: unknown;
  readonly outDir: string;
}

/** Builds a single-file program with `manifest` into `outDir`. */
export async function packageNodePlugin(o: PackageOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-package-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(o.manifest));
    return (await buildPlugin(dir, { entry: o.source, output: o.outDir })).output;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The example local-volume plugin. */
export async function packageLocalVolume(outDir = join(HERE, 'build')): Promise<string> {
  return (await buildPlugin(HERE, { output: outDir })).output;
}

/** The example authorization plugin (examples/authz-deny). */
export async function packageAuthzDeny(outDir = join(HERE, '../authz-deny/build')): Promise<string> {
  return (await buildPlugin(join(HERE, '../authz-deny'), { output: outDir })).output;
}
