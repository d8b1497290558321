/**
 * Managed plugin → OCI runtime spec (moby's `Plugin.InitSpec`), as a pure function of plain data.
 * Host facts (resolved devices, directories) are gathered beforehand by ./spec-input.ts.
 *
 * @module
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errdefs/index.ts';
import {
  addDevices,
  type Capabilities,
  DEFAULT_PATH_ENV,
  defaultSpec,
  type LinuxDevice,
  type LinuxDeviceCgroup,
  type LinuxSpec,
  type Mount,
  type Process,
  removeNamespace,
  type Spec,
} from '../../oci/index.ts';
import {
  ociResources,
  type PluginConfig,
  type PluginResources,
  type PluginSettings,
} from '../model/index.ts';

/** Where a plugin finds its socket directory, inside its container. */
export const PLUGIN_SOCKET_DIR_IN_CONTAINER = '/run/docker/plugins';
/** Where a metrics-collector plugin finds the daemon's metrics socket, inside its container. */
export const METRICS_SOCKET_IN_CONTAINER = '/run/docker/metrics.sock';
/** The interface type that gets the metrics socket (exact match, as moby's spec-option registry). */
export const METRICS_COLLECTOR_TYPE = 'docker.metricscollector/1.0';

/** Everything {@link pluginSpec} needs: the plugin's data plus host facts gathered beforehand. */
export interface PluginSpecInput {
  /** How the plugin is named in messages (its name, or its id). */
  readonly name: string;
  /** The manifest (`Config` of the Plugin object). */
  readonly config: PluginConfig;
  /** The user's settings; mounts, devices, env and args are read from here only. */
  readonly settings: PluginSettings;
  /** Host path of the plugin's root filesystem. */
  readonly rootfs: string;
  /** Host directory bound at `PropagatedMount`, if the manifest has one. */
  readonly propagatedMountSource: string;
  /** Host directory bound at {@link PLUGIN_SOCKET_DIR_IN_CONTAINER}; the plugin creates its socket there. */
  readonly socketDir: string;
  /** Device nodes resolved from `settings.Devices` on the host, in order. */
  readonly devices: readonly LinuxDevice[];
  /** Host path of the daemon's metrics socket, bound into metrics-collector plugins. */
  readonly metricsSocket: string;
  /** berth's limits (`berth plugin update`); none when absent, as dockerd runs plugins. */
  readonly resources?: PluginResources | undefined;
}

/** The one cgroup rule of a plugin with `AllowAllDevices`. */
export const allowAllDevices = (): LinuxDeviceCgroup => ({ allow: true, access: 'rwm' });

const bind = (source: string, destination: string, options: string[]): Mount => ({
  destination,
  type: 'bind',
  source,
  options,
});

/** A spec mount with Go's `omitempty` on type and options. */
function toSpecMount(
  m: { Name: string; Destination: string; Type: string; Options: string[] | null },
  source: string,
): Mount {
  return {
    destination: m.Destination,
    ...(m.Type ? { type: m.Type } : {}),
    source,
    ...(m.Options?.length ? { options: [...m.Options] } : {}),
  };
}

/** The mounts the plugin adds on top of the defaults, in moby's order (also used by ./spec-json.ts). */
export function pluginMounts(input: PluginSpecInput): Mount[] {
  const { config, settings } = input;
  const mounts: Mount[] = [];
  if (config.PropagatedMount) {
    mounts.push(bind(input.propagatedMountSource, config.PropagatedMount, ['rbind', 'rw', 'rshared']));
  }
  for (const m of settings.Mounts) {
    if (m.Source === null) {
      throw new InvalidParameterError(
        `mount source is not specified for mount "${m.Name}" at "${m.Destination}": set it with "berth plugin set ${input.name} ${m.Name}.source=/host/path"`,
      );
    }
    mounts.push(toSpecMount(m, m.Source));
  }
  mounts.push(bind(input.socketDir, PLUGIN_SOCKET_DIR_IN_CONTAINER, ['rbind', 'rshared']));
  if (config.Network.Type !== '') {
    mounts.push(bind('/etc/hosts', '/etc/hosts', ['rbind', 'ro']));
    mounts.push(bind('/etc/resolv.conf', '/etc/resolv.conf', ['rbind', 'ro']));
  }
  if (config.Interface.Types?.includes(METRICS_COLLECTOR_TYPE)) {
    mounts.push(bind(input.metricsSocket, METRICS_SOCKET_IN_CONTAINER, ['bind', 'ro']));
  }
  return mounts;
}

// Only paths with `//`, `.` or `..` segments, or a trailing slash, need posix.normalize (the rare case).
const NEEDS_NORMALIZING = /\/\/|\/\.\.?(?:\/|$)|.\/$/;
/** A mount destination as it is compared with the defaults' (which are normal already). */
export const normalizeDestination = (p: string): string =>
  NEEDS_NORMALIZING.test(p) ? posix.normalize(p).replace(/(.)\/+$/, '$1') : p;

/**
 * Default mounts followed by the plugin's. A default mount is dropped when a plugin mount has the same
 * destination, since it could only be hidden; every plugin mount is kept, in order. (moby's version only
 * looked at `/dev/…` and deleted from the slice while ranging over it, dropping the wrong entries.)
 */
export function mergeMounts(defaults: readonly Mount[], plugin: readonly Mount[]): Mount[] {
  const taken = new Set(plugin.map((m) => normalizeDestination(m.destination)));
  return [...defaults.filter((m) => !taken.has(normalizeDestination(m.destination))), ...plugin];
}

/**
 * Builds the OCI runtime spec a managed plugin runs with. Identical to moby 20.10's output for the same
 * plugin, except that default mounts shadowed by plugin mounts are dropped correctly, mounts and devices
 * come from Settings only, and FIFO devices get no (invalid) cgroup rule. Keys are emitted in Go's field
 * order, so `JSON.stringify` of the result reads like dockerd's `config.json`.
 *
 * @param input the plugin and the host facts gathered for it
 * @returns a new spec; the input is not modified
 * @throws {InvalidParameterError} when a mount has no source
 */
export function pluginSpec(input: PluginSpecInput): Spec {
  const { config, settings } = input;
  const base = defaultSpec();
  if (config.Network.Type === 'host') removeNamespace(base, 'network');
  if (config.PidHost) removeNamespace(base, 'pid');
  if (config.IpcHost) removeNamespace(base, 'ipc');
  const baseLinux = base.linux ?? {};
  if (config.Linux.AllowAllDevices) baseLinux.resources = { devices: [allowAllDevices()] };
  addDevices(base, input.devices, 'rwm');
  if (input.resources) {
    const linux = base.linux ?? {};
    base.linux = { ...linux, resources: { ...linux.resources, ...ociResources(input.resources) } };
  }

  // Keys are added in Go's field order and only when non-empty (omitempty), so the JSON matches dockerd's.
  const user = { uid: 0, gid: 0 };
  const args = [...(config.Entrypoint ?? []), ...settings.Args];
  const env = [DEFAULT_PATH_ENV, ...settings.Env];
  const cwd = config.WorkDir || '/';
  const capabilities = withExtraCapabilities(
    base.process?.capabilities ?? {},
    config.Linux.Capabilities ?? [],
  );
  const process: Process =
    args.length > 0 ? { user, args, env, cwd, capabilities } : { user, env, cwd, capabilities };

  const linux: LinuxSpec = {};
  const { resources, namespaces, devices, maskedPaths, readonlyPaths } = base.linux ?? {};
  if (resources) linux.resources = resources;
  if (namespaces) linux.namespaces = namespaces;
  if (devices?.length) linux.devices = devices;
  if (config.PropagatedMount) linux.rootfsPropagation = 'rshared';
  if (maskedPaths) linux.maskedPaths = maskedPaths;
  if (readonlyPaths) linux.readonlyPaths = readonlyPaths;

  return {
    ociVersion: base.ociVersion,
    process,
    root: { path: input.rootfs },
    mounts: mergeMounts(base.mounts ?? [], pluginMounts(input)),
    linux,
  };
}

/** Plugin capabilities appended to all four sets; inheritable holds only them (Docker's default is empty). */
function withExtraCapabilities(caps: Capabilities, extra: readonly string[]): Capabilities {
  const out: Capabilities = {
    bounding: [...(caps.bounding ?? []), ...extra],
    effective: [...(caps.effective ?? []), ...extra],
  };
  if (extra.length > 0) out.inheritable = [...(caps.inheritable ?? []), ...extra];
  out.permitted = [...(caps.permitted ?? []), ...extra];
  return out;
}
