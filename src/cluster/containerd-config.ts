/**
 * Editing a node's containerd configuration, as pure text → text functions:
 *
 * - {@link addImport} adds the drop-in to the main config's top-level `imports` once, touching nothing else
 *   (comments and layout stay; the result is parsed back and compared, or refused).
 * - {@link mergeBaseCriSection}: containerd 1.x replaces a whole plugin section with an imported file's
 *   (containerd#7982, #9968): a drop-in that only held `runtimes` would wipe `sandbox_image`, the CNI and registry
 *   settings and even the stock `runc`. So the 1.x drop-in carries the node's whole effective CRI section with
 *   berth's handlers merged in (berth's keys win; the node's other handlers and runc's own options stay).
 *   containerd 2.x merges imports deeply and needs none of this.
 *
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'smol-toml';
import { InvalidParameterError } from '../errdefs/index.ts';
import { type ContainerdVersion, CRI_PLUGIN } from './containerd.ts';
import { sortedDeep } from './model.ts';

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses TOML, naming the file in the error. @throws {InvalidParameterError} */
export function parseToml(text: string, file: string): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    throw new InvalidParameterError(`${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The config `version` of a main containerd config: 2 (containerd 1.x) or 3 (2.x). @throws otherwise */
export function containerdConfigVersion(config: Table, file: string): ContainerdVersion {
  const v = config.version;
  if (v === 2 || v === 3) return v;
  throw new InvalidParameterError(
    `${file} has config version ${JSON.stringify(v ?? 1)}; berth edits version 2 (containerd 1.6/1.7) and version 3 (containerd 2.x) configs: regenerate it with "containerd config default > ${file}"`,
  );
}

function importsOf(config: Table, file: string): string[] {
  const imports = config.imports ?? [];
  if (!Array.isArray(imports) || !imports.every((i) => typeof i === 'string'))
    throw new InvalidParameterError(`${file}: imports must be an array of file names`);
  return imports as string[];
}

/** smol-toml's tables have no prototype: compare as plain JSON values. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Lines `[start, end]` of the top-level `imports = [...]` assignment, which may span lines. */
function importsSpan(lines: readonly string[], firstTable: number): [number, number] | undefined {
  const start = lines.slice(0, firstTable).findIndex((l) => /^\s*imports\s*=/.test(l));
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start; i < firstTable; i++) {
    for (const ch of (lines[i] as string).replace(/#.*$/, '')) {
      if (ch === '[') depth++;
      else if (ch === ']') depth--;
    }
    if (depth <= 0) return [start, i];
  }
  return undefined;
}

/**
 * Adds `path` to the top-level `imports` of a containerd config, once. The rest of the text is kept verbatim.
 * @throws {InvalidParameterError} when the file is not TOML, or the edit could not be made safely
 */
export function addImport(text: string, path: string, file: string): { text: string; changed: boolean } {
  const before = parseToml(text, file);
  const imports = importsOf(before, file);
  if (imports.includes(path)) return { text, changed: false };
  const wanted = [...imports, path];
  const line = stringify({ imports: wanted }).trim();
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\s*\[/.test(l));
  const firstTable = header < 0 ? lines.length : header;
  const span = importsSpan(lines, firstTable);
  if (span) lines.splice(span[0], span[1] - span[0] + 1, line);
  else {
    const version = lines.slice(0, firstTable).findIndex((l) => /^\s*version\s*=/.test(l));
    lines.splice(version + 1, 0, line);
  }
  const next = lines.join('\n');
  const after = parseToml(next, file);
  if (!isDeepStrictEqual(plain(after), plain({ ...before, imports: wanted }))) {
    throw new InvalidParameterError(
      `cannot add the imports line to ${file} safely: add ${JSON.stringify(path)} to its top-level "imports" by hand`,
    );
  }
  return { text: next, changed: true };
}

/** The main file's imports other than `exclude`, resolved against its directory. */
export function otherImports(config: Table, file: string, exclude: string): string[] {
  const dir = file.slice(0, file.lastIndexOf('/') + 1) || './';
  return importsOf(config, file)
    .map((i) => (i.startsWith('/') ? i : `${dir}${i}`))
    .filter((i) => i !== exclude);
}

/** containerd 1.x's view: the last of the files (main, then imports in order) that defines the CRI plugin. */
export function effectiveCriSection(configs: readonly Table[]): Table | undefined {
  let section: Table | undefined;
  for (const c of configs) {
    const plugins = c.plugins;
    const cri = isTable(plugins) ? plugins[CRI_PLUGIN[2]] : undefined;
    if (isTable(cri)) section = cri;
  }
  return section;
}

function deepMerge(base: Table, top: Table): Table {
  const out: Table = { ...base };
  for (const [k, v] of Object.entries(top)) {
    const b = out[k];
    out[k] = isTable(b) && isTable(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/**
 * Merges berth's exported version-2 drop-in (`exported`, as rendered) over the node's CRI section `base`.
 * Exported runc-compatible handlers that do not set `SystemdCgroup` take the node runc's value, so every
 * handler follows the kubelet's cgroup driver. Comments at the top of `exported` are kept.
 */
export function mergeBaseCriSection(exported: string, base: Table | undefined): string {
  const lines = exported.split('\n');
  const body = lines.findIndex((l) => !l.startsWith('#'));
  const comments = lines.slice(0, body).join('\n');
  const doc = parseToml(exported, 'the exported drop-in');
  const plugins = doc.plugins as Table;
  const ours = plugins[CRI_PLUGIN[2]] as Table;
  const merged = deepMerge(base ?? {}, ours);
  const runtimes = (merged.containerd as Table).runtimes as Record<string, Table>;
  const runcOptions = (base?.containerd as Table | undefined)?.runtimes as Table | undefined;
  const nodeSystemd = ((runcOptions?.runc as Table | undefined)?.options as Table | undefined)?.SystemdCgroup;
  const exportedRuntimes = (ours.containerd as Table).runtimes as Record<string, Table>;
  if (typeof nodeSystemd === 'boolean') {
    for (const [handler, rt] of Object.entries(exportedRuntimes)) {
      const options = runtimes[handler]?.options;
      if (isTable(rt.options) && isTable(options) && options.SystemdCgroup === undefined)
        options.SystemdCgroup = nodeSystemd;
    }
  }
  const text = stringify(sortedDeep({ plugins: { [CRI_PLUGIN[2]]: merged } }));
  return `${comments}\nversion = 2\n\n${text}\n`;
}
