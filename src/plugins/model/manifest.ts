/**
 * Plugin manifest (`config.json`) decoding and validation. dockerd checks nothing here (its validateConfig is a
 * stub; plugins.md §1.3), so mistakes surface at enable as runc errors or never. berth refuses them at create with
 * every problem listed (§8.1).
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { describeUnknownKey, type UnknownKey } from '../../gojson/index.ts';
import { LINUX_CAPABILITIES } from '../../oci/index.ts';
import { decodeWithSchema, validators } from './decode.ts';
import { PluginConfigSchemaJson as PluginConfigSchema } from './plugin-schema.generated.ts';
import type { PluginConfig } from './plugin-schema.ts';

/** `<prefix>.<capability>/<version>`, lower case, as lookups compare them (§1.2). */
const INTERFACE_TYPE = /^[a-z0-9]+(?:\.[a-z0-9]+)*\.([a-z0-9]+)\/([0-9]+\.[0-9]+)$/;
/** Capabilities dockerd knows how to use. */
export const KNOWN_INTERFACES = [
  'volumedriver',
  'networkdriver',
  'ipamdriver',
  'authz',
  'logdriver',
  'metricscollector',
  'graphdriver',
] as const;
/** Settable fields per kind (moby's allowedSettableFields*). */
export const SETTABLE_FIELDS = {
  env: ['value'],
  args: ['value'],
  mounts: ['source'],
  devices: ['path'],
} as const;
const NETWORK_TYPES = ['', 'host', 'none', 'bridge'];
/** Longest socket name: `/run/docker/plugins/<Socket>` must fit a unix socket path (108 bytes) inside the plugin. */
const MAX_SOCKET_NAME = 107 - '/run/docker/plugins/'.length;
const PROTOCOL_SCHEMES = ['', 'moby.plugins.http/v1'];

/**
 * Parses a manifest as dockerd does (Go's `encoding/json`): keys in any case (`"interface": {"types"}` as Docker's
 * documentation writes them), unknown keys ignored, Go's zero values for missing keys.
 * @param unknownKeys receives the keys that match no field
 * @throws {InvalidParameterError} naming the first mistyped field, e.g. `config.json: Interface.Types[0] must be string`
 */
export function decodeManifest(input: unknown, unknownKeys?: UnknownKey[]): PluginConfig {
  return decodeWithSchema(
    PluginConfigSchema,
    validators.validateConfig,
    input,
    'config.json',
    unknownKeys,
  ) as PluginConfig;
}

/** A decoded manifest and the warnings about keys it ignored (shown in `Status.Warnings` and logged). */
export function decodeManifestWithWarnings(input: unknown): { config: PluginConfig; warnings: string[] } {
  const unknown: UnknownKey[] = [];
  const config = decodeManifest(input, unknown);
  return { config, warnings: unknown.map(describeUnknownKey) };
}

function checkSettable(
  where: string,
  kind: keyof typeof SETTABLE_FIELDS,
  settable: readonly string[] | null,
  out: string[],
): void {
  const allowed: readonly string[] = SETTABLE_FIELDS[kind];
  for (const field of settable ?? []) {
    if (!allowed.includes(field))
      out.push(
        `${where}: Settable "${field}" is not a settable field of ${kind} (allowed: ${allowed.join(', ')})`,
      );
  }
}

const isAbsolute = (p: string) => p.startsWith('/');
/** Socket paths are limited in bytes (sun_path), not characters. */
const utf8Length = (s: string) => new TextEncoder().encode(s).length;
const hasDotDot = (p: string) => p.split('/').includes('..');

/** One rule of the manifest: the sentence for each way `c` breaks it. */
type ManifestCheck = (c: PluginConfig) => string[];

function typeProblems(c: PluginConfig): string[] {
  const types = c.Interface.Types ?? [];
  const out =
    types.length === 0 ? ['Interface.Types must list at least one type, e.g. "docker.volumedriver/1.0"'] : [];
  types.forEach((t, i) => {
    const m = INTERFACE_TYPE.exec(t);
    if (!m) out.push(`Interface.Types[${i}] "${t}" must look like "docker.volumedriver/1.0" (lower case)`);
    else if (t.startsWith('docker.') && !(KNOWN_INTERFACES as readonly string[]).includes(m[1] ?? '')) {
      out.push(
        `Interface.Types[${i}] "${t}": unknown capability "${m[1]}" (known: ${KNOWN_INTERFACES.join(', ')})`,
      );
    }
  });
  return out;
}

function socketProblems(c: PluginConfig): string[] {
  const socket = c.Interface.Socket;
  if (socket === '')
    return ['Interface.Socket must name the socket file the plugin listens on, e.g. "plugin.sock"'];
  if (isAbsolute(socket) || hasDotDot(socket))
    return [`Interface.Socket "${socket}" must be relative to /run/docker/plugins, without ".."`];
  if (utf8Length(socket) > MAX_SOCKET_NAME)
    return [
      `Interface.Socket "${socket}" is ${utf8Length(socket)} bytes: at most ${MAX_SOCKET_NAME} bytes fit in a unix socket path after /run/docker/plugins/`,
    ];
  return [];
}

function protocolSchemeProblems(c: PluginConfig): string[] {
  if (PROTOCOL_SCHEMES.includes(c.Interface.ProtocolScheme ?? '')) return [];
  return [
    `Interface.ProtocolScheme "${c.Interface.ProtocolScheme}" is not supported (use "moby.plugins.http/v1" or leave it out)`,
  ];
}

function entrypointProblems(c: PluginConfig): string[] {
  return !c.Entrypoint?.length || c.Entrypoint[0] === ''
    ? ['Entrypoint must name the program to run, e.g. ["/bin/my-plugin"]']
    : [];
}

function pathProblems(c: PluginConfig): string[] {
  const out: string[] = [];
  if (c.WorkDir !== '' && !isAbsolute(c.WorkDir)) out.push(`WorkDir "${c.WorkDir}" must be an absolute path`);
  if (c.PropagatedMount !== '' && !isAbsolute(c.PropagatedMount))
    out.push(`PropagatedMount "${c.PropagatedMount}" must be an absolute path`);
  return out;
}

function networkProblems(c: PluginConfig): string[] {
  return NETWORK_TYPES.includes(c.Network.Type)
    ? []
    : [`Network.Type "${c.Network.Type}" is not supported (use "", "host", "none" or "bridge")`];
}

/** Records item names in manifest order: `set` addresses items by name, so they must be unique. */
function nameClaims(out: string[]): (name: string, where: string) => void {
  const names = new Map<string, string>();
  return (name, where) => {
    if (name === '') return;
    const other = names.get(name);
    if (other) out.push(`${where}: name "${name}" is already used by ${other}; set needs unique names`);
    else names.set(name, where);
  };
}

/** The settable items (Env, Mounts, Linux.Devices, Args): their own rules, unique names, settable fields. */
function settableItemProblems(c: PluginConfig): string[] {
  const out: string[] = [];
  const claim = nameClaims(out);
  (c.Env ?? []).forEach((e, i) => {
    const where = `Env[${i}]`;
    if (e.Name === '' || e.Name.includes('=')) out.push(`${where}: Name must be non-empty and without "="`);
    claim(e.Name, where);
    checkSettable(where, 'env', e.Settable, out);
  });
  (c.Mounts ?? []).forEach((m, i) => {
    const where = `Mounts[${i}]`;
    if (!isAbsolute(m.Destination))
      out.push(`${where}: Destination "${m.Destination}" must be an absolute path`);
    if (m.Source !== null && m.Source !== '' && !isAbsolute(m.Source))
      out.push(`${where}: Source "${m.Source}" must be an absolute host path`);
    claim(m.Name, where);
    checkSettable(where, 'mounts', m.Settable, out);
  });
  (c.Linux.Devices ?? []).forEach((d, i) => {
    const where = `Linux.Devices[${i}]`;
    if (d.Path !== null && !isAbsolute(d.Path))
      out.push(`${where}: Path "${d.Path}" must be an absolute host path`);
    claim(d.Name, where);
    checkSettable(where, 'devices', d.Settable, out);
  });
  claim(c.Args.Name, 'Args');
  checkSettable('Args', 'args', c.Args.Settable, out);
  return out;
}

function capabilityProblems(c: PluginConfig): string[] {
  return (c.Linux.Capabilities ?? [])
    .filter((cap) => !(LINUX_CAPABILITIES as readonly string[]).includes(cap))
    .map((cap) => `Linux.Capabilities: "${cap}" is not a Linux capability name such as "CAP_SYS_ADMIN"`);
}

/** The manifest's rules, in the order their problems are listed. */
const MANIFEST_CHECKS: readonly ManifestCheck[] = [
  typeProblems,
  socketProblems,
  protocolSchemeProblems,
  entrypointProblems,
  pathProblems,
  networkProblems,
  settableItemProblems,
  capabilityProblems,
];

/** Every problem of a decoded manifest, one sentence each; empty when it is valid. */
export function manifestProblems(c: PluginConfig): string[] {
  return MANIFEST_CHECKS.flatMap((check) => check(c));
}

/** @throws {InvalidParameterError} listing every problem of the manifest */
export function validateManifest(c: PluginConfig): void {
  const problems = manifestProblems(c);
  if (problems.length)
    throw new InvalidParameterError(`invalid plugin config.json:\n  ${problems.join('\n  ')}`);
}
