/**
 * `docker plugin set` on a plugin's Settings, with moby's grammar and messages (plugins.md §2.2–2.3) minus its
 * defects: all items apply or none (the input is never modified), values land in Settings only, mounts and
 * devices declared without a value can be set, env names may contain dots, and args are not split on single
 * spaces.
 *
 * Args rule: a value starting with `[` is a JSON array of strings (`args=["--a b","--c"]`); any other value is
 * split on runs of white space with empty words dropped (`args=--a  --b` → `["--a","--b"]`, `args=` → `[]`).
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { SETTABLE_FIELDS } from './manifest.ts';
import type { PluginConfig, PluginSettings } from './plugin-schema.ts';

const FORMAT = 'invalid format, must be <name>[.<field>][=<value>]';

type Kind = keyof typeof SETTABLE_FIELDS;

interface Target {
  readonly kind: Kind;
  readonly index: number;
  readonly settable: readonly string[];
}

/** moby's lookup order: env, then mounts, then devices, then args; first match wins. */
function findTarget(config: PluginConfig, name: string): Target | undefined {
  const lists: [Kind, readonly { Name: string; Settable: string[] | null }[]][] = [
    ['env', config.Env ?? []],
    ['mounts', config.Mounts ?? []],
    ['devices', config.Linux.Devices ?? []],
  ];
  for (const [kind, list] of lists) {
    const index = list.findIndex((item) => item.Name === name);
    if (index >= 0) return { kind, index, settable: list[index]?.Settable ?? [] };
  }
  if (config.Args.Name !== '' && config.Args.Name === name)
    return { kind: 'args', index: 0, settable: config.Args.Settable ?? [] };
  return undefined;
}

/** Splits `key` into name and field: an exact name wins, so env names with dots work. */
function resolveKey(config: PluginConfig, key: string): { name: string; field?: string; target: Target } {
  const exact = findTarget(config, key);
  if (exact) return { name: key, target: exact };
  const dot = key.lastIndexOf('.');
  if (dot > 0) {
    const name = key.slice(0, dot);
    const target = findTarget(config, name);
    if (target) return { name, field: key.slice(dot + 1), target };
  }
  const name = dot > 0 ? key.slice(0, dot) : key;
  throw new InvalidParameterError(`setting "${name}" not found in the plugin configuration`);
}

function parseArgs(value: string): string[] {
  if (value.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidParameterError(`args value ${value} is not a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
      throw new InvalidParameterError(`args value ${value} is not a JSON array of strings`);
    }
    return parsed;
  }
  return value.split(/\s+/).filter((w) => w !== '');
}

/** Mount sources and device paths are host paths: absolute, or the error names the key and the value. */
function hostPath(key: string, what: string, value: string): string {
  if (!value.startsWith('/'))
    throw new InvalidParameterError(`${key}: ${what} must be an absolute host path, got "${value}"`);
  return value;
}

function applyOne(config: PluginConfig, s: PluginSettings, item: string): void {
  if (item.startsWith('=')) throw new InvalidParameterError(FORMAT);
  const eq = item.indexOf('=');
  const key = eq < 0 ? item : item.slice(0, eq);
  const value = eq < 0 ? '' : item.slice(eq + 1);
  const { name, field: given, target } = resolveKey(config, key);
  const allowed: readonly string[] = SETTABLE_FIELDS[target.kind];
  let field = given;
  if (field === undefined) {
    if (target.settable.length > 1)
      throw new InvalidParameterError('multiple fields are settable, one must be specified');
    field = target.settable[0];
    if (field === undefined) throw new InvalidParameterError(`"${name}" is not settable`);
  }
  if (!target.settable.includes(field) || !allowed.includes(field)) {
    throw new InvalidParameterError(`"${given === undefined ? name : key}" is not settable`);
  }
  switch (target.kind) {
    case 'env': {
      const at = s.Env.findIndex((e) => e.startsWith(`${name}=`));
      if (at >= 0) s.Env[at] = `${name}=${value}`;
      else s.Env.push(`${name}=${value}`);
      return;
    }
    case 'mounts': {
      const mount = s.Mounts[target.index];
      if (mount) mount.Source = hostPath(key, 'mount source', value);
      return;
    }
    case 'devices': {
      const device = s.Devices[target.index];
      if (device) device.Path = hostPath(key, 'device path', value);
      return;
    }
    case 'args':
      s.Args = parseArgs(value);
      return;
  }
}

/**
 * The settings after applying `items` (`["DEBUG=1", "state.source=/srv"]`), or an error for the first bad item
 * with nothing applied.
 * @throws {InvalidParameterError} with moby's message for the offending item
 */
export function applySettings(
  config: PluginConfig,
  settings: PluginSettings,
  items: readonly string[],
): PluginSettings {
  const next = structuredClone(settings);
  for (const item of items) applyOne(config, next, item);
  return next;
}
