import { join } from 'node:path';
import type { PluginStore } from '../store/index.ts';
import type { PluginHostPaths } from './supervisor.ts';

/**
 * Where a plugin's host-side files are: sockets under `<exec-root>/plugins/<id>` (bound at /run/docker/plugins in
 * the plugin), bundles under `<exec-root>/plugin-bundles/<id>` (rebuilt at every start), the log, rootfs and
 * propagated mount in the store.
 */
export function pluginHostPaths(
  execRoot: string,
  store: PluginStore,
): PluginHostPaths & { readonly bundlesRoot: string } {
  const socketRoot = join(execRoot, 'plugins');
  const bundlesRoot = join(execRoot, 'plugin-bundles');
  return {
    socketRoot,
    bundlesRoot,
    socketDir: (id) => join(socketRoot, id),
    bundleDir: (id) => join(bundlesRoot, id),
    logPath: (id) => join(store.dir(id), 'plugin.log'),
    rootfs: (id) => store.rootfs(id),
    propagatedMount: (id) => store.propagatedMount(id),
  };
}
