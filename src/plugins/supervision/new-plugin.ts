import type { Readable } from 'node:stream';
import {
  decodeManifestWithWarnings,
  initialSettings,
  type Plugin,
  type PluginConfig,
  upgradeSettings,
  validateManifest,
} from '../model/index.ts';
import { type PluginState, type UnpackedContext, unpackDirectory, unpackTar } from '../store/index.ts';

/**
 * Where a new plugin comes from: a context directory, a context tar, or a fetch that fills a staging directory
 * (a registry pull) and names the remote it came from.
 */
export type PluginSource =
  | { readonly dir: string }
  | { readonly tar: Readable }
  | { readonly fetch: (staging: string) => Promise<UnpackedContext>; readonly reference: string };

export function unpackSource(source: PluginSource, staging: string): Promise<UnpackedContext> {
  if ('dir' in source) return Promise.resolve(unpackDirectory(source.dir, staging));
  if ('tar' in source) return unpackTar(source.tar, staging);
  return source.fetch(staging);
}

/** The persisted state of a plugin just unpacked from `source`. @throws {InvalidParameterError} bad manifest */
export function newPluginState(
  name: string,
  source: PluginSource,
  ctx: UnpackedContext,
  runtime: string | undefined,
): PluginState {
  const { config, warnings } = decodeManifestWithWarnings(ctx.manifest);
  validateManifest(config);
  const fetched = 'fetch' in source;
  const plugin: Plugin = {
    Config: { ...config, DockerVersion: fetched ? (config.DockerVersion ?? '') : 'berth' },
    Enabled: false,
    Id: randomId(),
    Name: name,
    PluginReference: fetched ? source.reference : name,
    Settings: initialSettings(config),
  };
  return { plugin, ...(runtime ? { runtime } : {}), ...(warnings.length ? { warnings } : {}) };
}

/**
 * The state of a plugin upgraded to the version in `ctx`: `check` sees the new manifest first (privileges);
 * settings the user changed are carried over where the new version still declares them, the rest reported as
 * dropped; what berth keeps beside the Plugin object (runtime, health settings) stays.
 * @throws {InvalidParameterError} bad manifest; whatever `check` throws
 */
export function upgradedState(
  old: PluginState,
  ctx: UnpackedContext,
  reference: string,
  check: (config: PluginConfig) => void,
): { state: PluginState; kept: string[]; dropped: string[] } {
  const { config, warnings } = decodeManifestWithWarnings(ctx.manifest);
  validateManifest(config);
  check(config);
  const merge = upgradeSettings(old.plugin.Config, old.plugin.Settings, config);
  const plugin: Plugin = {
    ...old.plugin,
    Config: config,
    PluginReference: reference,
    Settings: merge.settings,
  };
  const { warnings: _old, ...rest } = old;
  const state: PluginState = { ...rest, plugin, ...(warnings.length ? { warnings } : {}) };
  return { state, kept: merge.kept, dropped: merge.dropped };
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}
