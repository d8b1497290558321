import { availableParallelism } from 'node:os';
import { applyResources, hasResources, type PluginUpdate } from '../model/index.ts';
import type { PluginState } from '../store/index.ts';

/**
 * The plugin's state after an update (`POST /plugins/{name}/update`); the input is not modified. Limits are checked
 * against this host's CPUs. @throws {InvalidParameterError} for a bad value, naming its field
 */
export function updatedState(state: PluginState, change: PluginUpdate): PluginState {
  if (!change.resources) return state;
  const Resources = applyResources(state.plugin.Resources, change.resources, {
    cpus: availableParallelism(),
  });
  const { Resources: _old, ...plugin } = state.plugin;
  return { ...state, plugin: hasResources(Resources) ? { ...plugin, Resources } : plugin };
}
