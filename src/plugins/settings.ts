import type { PluginConfig, PluginSettings } from './plugin-schema.ts';

/**
 * The settings a freshly created plugin starts with (moby's `InitEmptySettings`): env entries that have a
 * value as `NAME=value`, the manifest's args, and copies of its mounts and devices. Copies are deep, so a
 * later `set` never writes through into the manifest (moby's pointer-aliasing bug).
 */
export function initialSettings(config: PluginConfig): PluginSettings {
  return {
    Args: [...(config.Args.Value ?? [])],
    Devices: structuredClone(config.Linux.Devices ?? []),
    Env: (config.Env ?? []).flatMap((e) => (e.Value === null ? [] : [`${e.Name}=${e.Value}`])),
    Mounts: structuredClone(config.Mounts ?? []),
  };
}
