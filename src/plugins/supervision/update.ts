import { availableParallelism } from 'node:os';
import { applyHealthUpdate, applyResources, hasResources, type PluginUpdate } from '../model/index.ts';
import type { PluginState } from '../store/index.ts';

/**
 * The plugin's state after an update (`POST /plugins/{name}/update`); the input is not modified. Limits are checked
 * against this host's CPUs. @throws {InvalidParameterError} for a bad value, naming its field
 */
export function updatedState(state: PluginState, change: PluginUpdate): PluginState {
  const next = change.health ? withHealth(state, change.health) : state;
  if (!change.resources) return next;
  const Resources = applyResources(state.plugin.Resources, change.resources, {
    cpus: availableParallelism(),
  });
  const { Resources: _old, ...plugin } = state.plugin;
  return { ...next, plugin: hasResources(Resources) ? { ...plugin, Resources } : plugin };
}

function withHealth(state: PluginState, update: NonNullable<PluginUpdate['health']>): PluginState {
  const { health: _old, ...rest } = state;
  const health = applyHealthUpdate(state.health, update);
  return Object.keys(health).length ? { ...rest, health } : rest;
}
