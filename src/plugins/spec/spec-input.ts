import { mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { devicesFromPath } from '../../host/index.ts';
import type { LinuxDevice, Spec } from '../../oci/index.ts';
import { type Plugin, resourceProblem } from '../model/index.ts';
import { type PluginSpecInput, pluginSpec } from './spec.ts';
import { pluginSpecJson } from './spec-json.ts';

/** Where a plugin lives on the host. */
export interface PluginPaths {
  /** Absolute host path of the plugin's root filesystem. */
  readonly rootfs: string;
  /** Absolute directory holding one socket directory per plugin (`<execRoot>/<plugin Id>`). */
  readonly execRoot: string;
  /** Host path of the daemon's metrics socket; defaults to `<execRoot>/metrics.sock`. */
  readonly metricsSocket?: string;
}

const PLUGIN_ID = /^[0-9a-f]{64}$/;

function requireAbsolute(name: string, value: string): void {
  if (!isAbsolute(value)) {
    throw new InvalidParameterError(`${name} must be an absolute path, got "${value}"`);
  }
}

const displayName = (plugin: Plugin): string => plugin.Name || plugin.Id;

/**
 * `mkdir -p` that looks first, as Go's os.MkdirAll does: a directory that is already there (every enable after
 * the first) costs one stat, where a recursive mkdir costs a failing mkdir and a stat.
 */
function ensureDirectory(path: string, mode: number): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return;
  mkdirSync(path, { recursive: true, mode });
}

function resolveDevices(plugin: Plugin): LinuxDevice[] {
  const devices: LinuxDevice[] = [];
  for (const d of plugin.Settings.Devices) {
    if (d.Path === null) {
      throw new InvalidParameterError(
        `device "${d.Name}" has no path: set it with "berth plugin set ${displayName(plugin)} ${d.Name}.path=/dev/..."`,
      );
    }
    devices.push(...devicesFromPath(d.Path, d.Path));
  }
  return devices;
}

/**
 * Gathers the host facts a plugin's spec needs: checks its id and paths, creates its socket directory
 * (`<execRoot>/<Id>`, mode 0700) and resolves its devices. Synchronous: these are a few metadata syscalls.
 *
 * @throws {InvalidParameterError} for a malformed id, a relative path, a device without path or not found
 */
export function resolvePluginSpecInput(plugin: Plugin, paths: PluginPaths): PluginSpecInput {
  if (!PLUGIN_ID.test(plugin.Id)) {
    throw new InvalidParameterError(`plugin.Id must be 64 lowercase hex characters, got "${plugin.Id}"`);
  }
  requireAbsolute('rootfs', paths.rootfs);
  requireAbsolute('execRoot', paths.execRoot);
  const socketDir = join(paths.execRoot, plugin.Id);
  const limits = plugin.Resources && resourceProblem(plugin.Resources);
  if (limits) throw new InvalidParameterError(`plugin.${limits}`);
  const devices = resolveDevices(plugin);
  ensureDirectory(socketDir, 0o700);
  return {
    name: displayName(plugin),
    config: plugin.Config,
    settings: plugin.Settings,
    rootfs: paths.rootfs,
    propagatedMountSource: join(dirname(paths.rootfs), 'propagated-mount'),
    socketDir,
    devices,
    metricsSocket: paths.metricsSocket ?? join(paths.execRoot, 'metrics.sock'),
    ...(plugin.Resources ? { resources: plugin.Resources } : {}),
  };
}

/**
 * The OCI spec a plugin runs with: {@link resolvePluginSpecInput} then the pure {@link pluginSpec}.
 *
 * @example
 * ```ts
 * const spec = buildPluginSpec(decodePlugin(inspectJson), { rootfs: '/var/lib/berth/plugins/<id>/rootfs',
 *   execRoot: '/run/berth/plugins' });
 * ```
 */
export function buildPluginSpec(plugin: Plugin, paths: PluginPaths): Spec {
  return pluginSpec(resolvePluginSpecInput(plugin, paths));
}

/**
 * `JSON.stringify(buildPluginSpec(plugin, paths))` byte for byte, with the same host reads on every call:
 * {@link resolvePluginSpecInput} then {@link pluginSpecJson} (no spec object is built).
 */
export function buildPluginSpecJson(plugin: Plugin, paths: PluginPaths): string {
  return pluginSpecJson(resolvePluginSpecInput(plugin, paths));
}
