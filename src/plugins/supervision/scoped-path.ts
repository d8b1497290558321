import { join } from 'node:path';
import type { Plugin } from '../model/index.ts';
import type { PluginStore } from '../store/index.ts';

/**
 * Where a path the plugin reports (a volume's mountpoint) is on the host (moby's `ScopedPath`): under the
 * propagated mount it maps to the plugin's `propagated-mount/` dir, anything else into its rootfs.
 */
export function scopedPath(plugin: Plugin, store: PluginStore, pathInPlugin: string): string {
  const { Id, Config } = plugin;
  const propagated = Config.PropagatedMount.replace(/\/+$/, '');
  if (propagated && (pathInPlugin === propagated || pathInPlugin.startsWith(`${propagated}/`))) {
    return join(store.propagatedMount(Id), pathInPlugin.slice(propagated.length));
  }
  return join(store.rootfs(Id), pathInPlugin);
}
