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

/** What {@link upgradeSettings} did with the user's overrides. */
export interface SettingsMerge {
  readonly settings: PluginSettings;
  /** Overrides carried into the new version, as `name=value`. */
  readonly kept: string[];
  /** Overrides the new version no longer declares, as `name=value`. */
  readonly dropped: string[];
}

const envMap = (env: readonly string[]) =>
  new Map(env.map((e) => [e.slice(0, e.indexOf('=') >>> 0), e.slice((e.indexOf('=') >>> 0) + 1)]));

/**
 * Settings for an upgraded plugin (moby keeps the old ones whole, so new env, mounts and args never appear):
 * the new manifest's defaults, with every value the user changed from the old defaults carried over when the
 * new version still declares that name, and reported as dropped when it does not.
 */
export function upgradeSettings(
  oldConfig: PluginConfig,
  old: PluginSettings,
  next: PluginConfig,
): SettingsMerge {
  const settings = initialSettings(next);
  const kept: string[] = [];
  const dropped: string[] = [];
  const defaults = envMap(initialSettings(oldConfig).Env);
  const declared = new Set((next.Env ?? []).map((e) => e.Name));
  const env = envMap(settings.Env);
  for (const [name, value] of envMap(old.Env)) {
    if (defaults.get(name) === value) continue;
    if (declared.has(name)) {
      env.set(name, value);
      kept.push(`${name}=${value}`);
    } else dropped.push(`${name}=${value}`);
  }
  const carry = <T extends { Name: string }>(
    was: readonly T[],
    defaultsOf: readonly T[],
    now: T[],
    field: keyof T,
  ): void => {
    for (const item of was) {
      const before = defaultsOf.find((d) => d.Name === item.Name);
      if (before && before[field] === item[field]) continue;
      const target = now.find((n) => n.Name === item.Name);
      const shown = `${item.Name}=${String(item[field])}`;
      if (target) {
        target[field] = item[field];
        kept.push(shown);
      } else dropped.push(shown);
    }
  };
  carry(old.Mounts, oldConfig.Mounts ?? [], settings.Mounts, 'Source');
  carry(old.Devices, oldConfig.Linux.Devices ?? [], settings.Devices, 'Path');
  let args = settings.Args;
  const oldArgs = oldConfig.Args.Value ?? [];
  if (JSON.stringify(old.Args) !== JSON.stringify(oldArgs)) {
    const shown = `${oldConfig.Args.Name || 'args'}=${old.Args.join(' ')}`;
    if (next.Args.Name && next.Args.Name === oldConfig.Args.Name) {
      args = [...old.Args];
      kept.push(shown);
    } else dropped.push(shown);
  }
  return {
    settings: { ...settings, Args: args, Env: [...env].map(([k, v]) => `${k}=${v}`) },
    kept,
    dropped,
  };
}
