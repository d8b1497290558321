/**
 * Bundles a plugin's TypeScript or JavaScript entry (with its npm dependencies and `berth/plugin`) into one ES
 * module for node, with esbuild. `berth/plugin` always resolves to the SDK of the berth doing the build.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { InvalidParameterError } from '../../errdefs/index.ts';

/** Entry files looked for, in order, when none is given. */
export const ENTRY_CANDIDATES = [
  'plugin.ts',
  'plugin.mts',
  'plugin.js',
  'plugin.mjs',
  'index.ts',
  'index.js',
  'src/index.ts',
];

/** The SDK beside this module: src/sdk/index.ts under tsx, dist/sdk/index.js when built. */
const SDK = fileURLToPath(
  new URL(`../../sdk/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
);

/** ES modules bundling CommonJS packages (protobufjs) need a `require` for node's built-ins. */
const BANNER =
  "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);";

/** @throws {InvalidParameterError} when `entry` is given and missing, or none of ENTRY_CANDIDATES exists */
export function findEntry(dir: string, entry?: string): string {
  if (entry) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new InvalidParameterError(`--entry ${entry}: no such file in ${dir}`);
    return path;
  }
  const found = ENTRY_CANDIDATES.map((c) => join(dir, c)).find((p) => existsSync(p));
  if (!found)
    throw new InvalidParameterError(
      `${dir} has no plugin program: add one of ${ENTRY_CANDIDATES.join(', ')} or pass --entry FILE`,
    );
  return found;
}

/** Bundles `entry`; resolves to the JavaScript text. */
export async function bundle(entry: string, workingDir: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: workingDir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      alias: { 'berth/plugin': SDK },
      banner: { js: BANNER },
      logLevel: 'silent',
      charset: 'utf8',
    });
    return result.outputFiles[0]?.text ?? '';
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    if (!first) throw err;
    const where = first.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new InvalidParameterError(`bundling ${entry} failed: ${where}${first.text}`);
  }
}
