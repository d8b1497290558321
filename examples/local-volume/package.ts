/**
 * Packages a Node.js plugin script into a plugin directory (`config.json` + `rootfs/`) whose rootfs holds what
 * it needs: the host's node binary, the shared libraries it links (from ldd) and the compiled script.
 *
 *   node --import tsx examples/local-volume/package.ts [OUT_DIR]     (default examples/local-volume/build)
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const HERE = new URL('.', import.meta.url).pathname;

/** Host files node needs at run time: the binary, its libraries and the dynamic loader. */
function nodeFiles(): string[] {
  const node = realpathSync(process.execPath);
  const libs = execFileSync('ldd', [node], { encoding: 'utf8' })
    .split('\n')
    .flatMap((line) => {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      return m?.[1] ? [m[1]] : [];
    });
  return [node, ...libs];
}

/** Copies `path` to the same place under `rootfs`, following symlinks (the rootfs needs the file). */
function copyInto(rootfs: string, path: string, as = path): void {
  const target = join(rootfs, as);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(path), target);
}

export interface PackageOptions {
  /** TypeScript (or JavaScript) source of the plugin program. */
  readonly source: string;
  /** The manifest. */
  readonly manifest: unknown;
  readonly outDir: string;
  /** npm packages the program imports: copied with their dependencies to /plugin/node_modules. */
  readonly modules?: readonly string[];
}

const MODULES = new URL('../../node_modules/', import.meta.url).pathname;

/** `name` and every package it depends on (type-only `@types/*` left out), from berth's node_modules. */
function moduleClosure(names: readonly string[], seen = new Set<string>()): Set<string> {
  for (const name of names) {
    if (seen.has(name) || name.startsWith('@types/')) continue;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(MODULES, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    moduleClosure(Object.keys(pkg.dependencies ?? {}), seen);
  }
  return seen;
}

/** Writes `<outDir>/config.json` and `<outDir>/rootfs/` (node at /usr/bin/node, the script at /plugin/plugin.js). */
export function packageNodePlugin(o: PackageOptions): string {
  rmSync(o.outDir, { recursive: true, force: true });
  const rootfs = join(o.outDir, 'rootfs');
  const files = nodeFiles();
  copyInto(rootfs, files[0] ?? process.execPath, '/usr/bin/node');
  for (const lib of files.slice(1)) copyInto(rootfs, lib);
  const js = ts.transpileModule(readFileSync(o.source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  mkdirSync(join(rootfs, 'plugin'), { recursive: true });
  writeFileSync(join(rootfs, 'plugin', 'plugin.js'), js);
  writeFileSync(join(rootfs, 'plugin', 'package.json'), '{"type": "module"}\n');
  for (const name of moduleClosure(o.modules ?? []))
    cpSync(join(MODULES, name), join(rootfs, 'plugin', 'node_modules', name), {
      recursive: true,
      dereference: true,
    });
  mkdirSync(join(rootfs, 'data'), { recursive: true });
  writeFileSync(join(o.outDir, 'config.json'), `${JSON.stringify(o.manifest, null, 2)}\n`);
  return o.outDir;
}

/** The example local-volume plugin. */
export function packageLocalVolume(outDir = join(HERE, 'build')): string {
  return packageNodePlugin({
    source: join(HERE, 'plugin.ts'),
    manifest: JSON.parse(readFileSync(join(HERE, 'config.json'), 'utf8')),
    outDir,
  });
}

/** The example authorization plugin (examples/authz-deny). */
export function packageAuthzDeny(outDir = join(HERE, '../authz-deny/build')): string {
  return packageNodePlugin({
    source: join(HERE, '../authz-deny/plugin.ts'),
    manifest: JSON.parse(readFileSync(join(HERE, '../authz-deny/config.json'), 'utf8')),
    outDir,
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(new URL(import.meta.url).pathname)) {
  console.log(packageLocalVolume(process.argv[2]));
}
