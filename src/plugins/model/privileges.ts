import type { PluginConfig } from './plugin-schema.ts';

/** One privilege a plugin asks for (Engine API `PluginPrivilege`). */
export interface PluginPrivilege {
  readonly Name: string;
  readonly Description: string;
  readonly Value: string[];
}

/** Network types that need no privilege: the plugin's own namespace, or none (moby checks "null", not "none"). */
const UNPRIVILEGED_NETWORKS = ['', 'bridge', 'none'];

/** What a plugin needs from the host, in moby's order (plugins.md §2.6). */
export function computePrivileges(c: PluginConfig): PluginPrivilege[] {
  const out: PluginPrivilege[] = [];
  if (!UNPRIVILEGED_NETWORKS.includes(c.Network.Type)) {
    out.push({ Name: 'network', Description: 'permissions to access a network', Value: [c.Network.Type] });
  }
  if (c.IpcHost)
    out.push({
      Name: 'host ipc namespace',
      Description: 'allow access to host ipc namespace',
      Value: ['true'],
    });
  if (c.PidHost)
    out.push({
      Name: 'host pid namespace',
      Description: 'allow access to host pid namespace',
      Value: ['true'],
    });
  for (const m of c.Mounts ?? []) {
    if (m.Source !== null) out.push({ Name: 'mount', Description: 'host path to mount', Value: [m.Source] });
  }
  for (const d of c.Linux.Devices ?? []) {
    if (d.Path !== null) out.push({ Name: 'device', Description: 'host device to access', Value: [d.Path] });
  }
  if (c.Linux.AllowAllDevices) {
    out.push({
      Name: 'allow-all-devices',
      Description: "allow 'rwm' access to all devices",
      Value: ['true'],
    });
  }
  if (c.Linux.Capabilities?.length) {
    out.push({
      Name: 'capabilities',
      Description: 'list of additional capabilities required',
      Value: [...c.Linux.Capabilities],
    });
  }
  return out;
}

/** Whether `accepted` (what a client approved) covers exactly `required`, order-insensitive (moby skipped entry 0). */
export function privilegesMatch(
  required: readonly PluginPrivilege[],
  accepted: readonly PluginPrivilege[],
): boolean {
  const key = (p: PluginPrivilege) => JSON.stringify([p.Name, [...p.Value].sort()]);
  const a = required.map(key).sort();
  const b = accepted.map(key).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
}
