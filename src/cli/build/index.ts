/**
 * `berth plugin build`'s work: DIR (config.json in any key case + a TS/JS entry) → OUT/config.json + OUT/rootfs/,
 * checked as a create would check it, written atomically (a failed build leaves the previous OUT), reproducible.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { decodeManifest, type PluginConfig, validateManifest } from '../../plugins/index.ts';
import { bundle, findEntry } from './bundle.ts';
import { installBase, installHostNode, pinTimes, rootfsDigest } from './rootfs.ts';

export { ENTRY_CANDIDATES } from './bundle.ts';
export { parseLdd, rootfsDigest } from './rootfs.ts';

/** What config.json gets when it names no Entrypoint. */
export const DEFAULT_ENTRYPOINT = ['/usr/bin/node', '/plugin/plugin.js'];

export interface BuildOptions {
  /** Default `<dir>/build`. */
  readonly output?: string;
  /** The program, relative to dir (default: the first of ENTRY_CANDIDATES). */
  readonly entry?: string;
  /** Copy this directory as the rootfs instead of the host's node and its libraries. */
  readonly baseRootfs?: string;
  /** mtime of every rootfs entry, seconds (default $SOURCE_DATE_EPOCH, else 0). */
  readonly epoch?: number;
  readonly progress?: (line: string) => void;
}

export interface BuiltPlugin {
  readonly output: string;
  readonly config: PluginConfig;
  /** sha256 of the canonical tar of rootfs/: equal for equal inputs. */
  readonly rootfsDigest: string;
  readonly files: number;
  readonly bytes: number;
}

/** Reads config.json, adds the default Entrypoint when it has none and checks it as `plugin create` does. */
export function readPluginConfig(dir: string): PluginConfig {
  const file = join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidParameterError(`${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidParameterError(`${file} must hold a JSON object`);
  const hasEntrypoint = Object.keys(raw).some((k) => k.toLowerCase() === 'entrypoint');
  const config = decodeManifest(hasEntrypoint ? raw : { ...raw, Entrypoint: DEFAULT_ENTRYPOINT });
  validateManifest(config);
  return config;
}

/** Entrypoint [node, script, ...]: where node and the bundle go in the rootfs. */
function entrypointPaths(c: PluginConfig): { node: string; script: string } {
  const [node, script] = c.Entrypoint ?? [];
  if (!node || !script || !isAbsolute(script) || !/\.m?js$/.test(script) || !isAbsolute(node))
    throw new InvalidParameterError(
      `config.json Entrypoint ${JSON.stringify(c.Entrypoint)} must be [NODE, SCRIPT.js, ...] with absolute paths, e.g. ${JSON.stringify(DEFAULT_ENTRYPOINT)}: the build puts node and the bundled program there`,
    );
  return { node, script };
}

const size = (n: number) =>
  n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;

async function fillRootfs(rootfs: string, dir: string, c: PluginConfig, o: BuildOptions): Promise<void> {
  const say = o.progress ?? (() => {});
  const { node, script } = entrypointPaths(c);
  const entry = findEntry(dir, o.entry);
  const js = await bundle(entry, dir);
  mkdirSync(join(rootfs, dirname(script)), { recursive: true });
  writeFileSync(join(rootfs, script), js);
  if (script.endsWith('.js'))
    writeFileSync(join(rootfs, dirname(script), 'package.json'), '{"type": "module"}\n');
  say(`bundled ${relative(dir, entry)} → ${script} (${size(Buffer.byteLength(js))})`);
  if (o.baseRootfs) {
    installBase(rootfs, o.baseRootfs, node);
    say(`rootfs: copied base ${o.baseRootfs}`);
  } else {
    const libs = installHostNode(rootfs, node);
    say(`rootfs: node ${process.version} at ${node} + ${libs} shared libraries (ldd)`);
  }
  for (const d of [c.PropagatedMount, '/tmp']) if (d) mkdirSync(join(rootfs, d), { recursive: true });
}

/** Builds the plugin in `dir`. @throws {InvalidParameterError} for a bad config.json, entry or base rootfs */
export async function buildPlugin(dirArg: string, o: BuildOptions = {}): Promise<BuiltPlugin> {
  const dir = resolve(dirArg);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new InvalidParameterError(
      `${dirArg} is not a directory: give the directory holding config.json and the program`,
    );
  const output = resolve(o.output ?? join(dir, 'build'));
  const say = o.progress ?? (() => {});
  const config = readPluginConfig(dir);
  say(`config.json: ${config.Interface.Types?.join(', ')} on ${config.Interface.Socket}`);
  const epoch = o.epoch ?? Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new InvalidParameterError(`SOURCE_DATE_EPOCH must be whole seconds, not ${epoch}`);
  const staging = `${output}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const rootfs = join(staging, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    await fillRootfs(rootfs, dir, config, o);
    writeFileSync(join(staging, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    pinTimes(rootfs, epoch);
    const digest = await rootfsDigest(rootfs, epoch);
    const old = `${output}.old-${process.pid}`;
    if (existsSync(output)) renameSync(output, old);
    renameSync(staging, output);
    rmSync(old, { recursive: true, force: true });
    say(
      `wrote ${output}: config.json + rootfs/ (${digest.files} entries, ${size(digest.bytes)}), rootfs ${digest.digest}`,
    );
    return { output, config, rootfsDigest: digest.digest, files: digest.files, bytes: digest.bytes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The plugin name a build creates when `--name` is not given: the directory's name. */
export const defaultPluginName = (dir: string) => basename(resolve(dir)).toLowerCase();
