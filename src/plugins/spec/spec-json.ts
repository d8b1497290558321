/**
 * A plugin's spec written straight as JSON: byte for byte `JSON.stringify(pluginSpec(input))` (tested), in
 * about a third of the time. Most of a plugin spec is Docker's defaults (mounts, device rules, namespaces,
 * capabilities, masked paths), serialised once at load (oci/default-spec-json.ts); only the plugin's own values
 * are serialised per call, and no spec object is built. The decisions stay in ./spec.ts (pluginMounts, the
 * default-mount shadowing, allowAllDevices): this file only writes what they decide.
 *
 * @module
 */
import {
  DEFAULT_CAPABILITIES_JSON,
  DEFAULT_DEVICE_RULES_JSON,
  DEFAULT_MOUNTS_JSON,
  DEFAULT_NAMESPACES_JSON,
  DEFAULT_PATH_ENV,
  deviceCgroupRule,
  MASKED_AND_READONLY_PATHS_JSON,
  type NamespaceType,
  OCI_VERSION_JSON,
} from '../../oci/index.ts';
import { ociResources } from '../model/index.ts';
import { allowAllDevices, normalizeDestination, type PluginSpecInput, pluginMounts } from './spec.ts';

/** A JSON string literal (JSON.stringify of a string: escapes exactly as the whole-spec stringify does). */
const str = (s: string): string => JSON.stringify(s);
const DEFAULT_PATH_ENV_JSON = str(DEFAULT_PATH_ENV);
const ALLOW_ALL_DEVICES_JSON = JSON.stringify(allowAllDevices());
const ALL_NAMESPACES_JSON = DEFAULT_NAMESPACES_JSON.map((n) => n.json).join(',');

/** `,"a","b"` for a list of strings (empty for none). */
function commaItems(list: readonly string[]): string {
  let out = '';
  for (const s of list) out += `,${str(s)}`;
  return out;
}

/** The `process` object: user, args, env, cwd and the four capability sets, as pluginSpec() builds it. */
function processJson(input: PluginSpecInput): string {
  const { config, settings } = input;
  const args = (commaItems(config.Entrypoint ?? []) + commaItems(settings.Args)).slice(1);
  const extra = commaItems(config.Linux.Capabilities ?? []);
  const set = `[${DEFAULT_CAPABILITIES_JSON}${extra}]`;
  const inheritable = extra ? `,"inheritable":[${extra.slice(1)}]` : '';
  return (
    `{"user":{"uid":0,"gid":0},${args ? `"args":[${args}],` : ''}` +
    `"env":[${DEFAULT_PATH_ENV_JSON}${commaItems(settings.Env)}],"cwd":${str(config.WorkDir || '/')},` +
    `"capabilities":{"bounding":${set},"effective":${set}${inheritable},"permitted":${set}}}`
  );
}

/** The mounts' items: the defaults no plugin mount shadows (see mergeMounts), then the plugin's. */
function mountsJson(input: PluginSpecInput): string {
  const added = pluginMounts(input);
  const taken = added.map((m) => normalizeDestination(m.destination));
  let out = '';
  for (const d of DEFAULT_MOUNTS_JSON) if (!taken.includes(d.key)) out += `,${d.json}`;
  for (const m of added) out += `,${JSON.stringify(m)}`;
  return out.slice(1);
}

/** The `resources` object: the device rules (defaults or allow-all, then the devices'), then berth's limits. */
function resourcesJson(input: PluginSpecInput): string {
  let rules = input.config.Linux.AllowAllDevices ? ALLOW_ALL_DEVICES_JSON : DEFAULT_DEVICE_RULES_JSON;
  for (const d of input.devices) {
    const rule = deviceCgroupRule(d, 'rwm');
    if (rule) rules += `,${JSON.stringify(rule)}`;
  }
  const limits = input.resources ? JSON.stringify(ociResources(input.resources)).slice(1, -1) : '';
  return `{"devices":[${rules}]${limits ? `,${limits}` : ''}}`;
}

function namespacesJson(input: PluginSpecInput): string {
  const { config } = input;
  const removed = (t: NamespaceType): boolean =>
    (t === 'network' && config.Network.Type === 'host') ||
    (t === 'pid' && config.PidHost) ||
    (t === 'ipc' && config.IpcHost);
  if (config.Network.Type !== 'host' && !config.PidHost && !config.IpcHost) return ALL_NAMESPACES_JSON;
  return DEFAULT_NAMESPACES_JSON.filter((n) => !removed(n.key))
    .map((n) => n.json)
    .join(',');
}

/** The `linux` object, keys in pluginSpec()'s order. */
function linuxJson(input: PluginSpecInput): string {
  const devices = input.devices.length > 0 ? `,"devices":${JSON.stringify(input.devices)}` : '';
  const propagation = input.config.PropagatedMount ? ',"rootfsPropagation":"rshared"' : '';
  return (
    `{"resources":${resourcesJson(input)},"namespaces":[${namespacesJson(input)}]${devices}${propagation},` +
    `${MASKED_AND_READONLY_PATHS_JSON}}`
  );
}

/**
 * `JSON.stringify(pluginSpec(input))`, byte for byte, without building the spec object: what a plugin's
 * bundle `config.json` holds.
 *
 * @throws {InvalidParameterError} when a mount has no source (as pluginSpec)
 */
export function pluginSpecJson(input: PluginSpecInput): string {
  return (
    `{"ociVersion":${OCI_VERSION_JSON},"process":${processJson(input)},` +
    `"root":{"path":${str(input.rootfs)}},"mounts":[${mountsJson(input)}],"linux":${linuxJson(input)}}`
  );
}
