import type { LinuxDevice, LinuxDeviceCgroup, Spec } from './types.ts';

/**
 * The device cgroup rule that lets a container use this device node, or `undefined` for a FIFO:
 * FIFOs are not governed by the device cgroup, and runc rejects a rule of type `p`
 * ("invalid cgroup device type"), which moby would pass through and fail the start with.
 */
export function deviceCgroupRule(device: LinuxDevice, access: string): LinuxDeviceCgroup | undefined {
  if (device.type !== 'b' && device.type !== 'c') return undefined;
  return { allow: true, type: device.type, major: device.major ?? 0, minor: device.minor ?? 0, access };
}

/**
 * Adds device nodes to `linux.devices` and their allow rules after the existing cgroup rules, so an explicit
 * device wins over a default deny (e.g. fuse `10:229`).
 */
export function addDevices(spec: Spec, devices: readonly LinuxDevice[], access: string): void {
  if (devices.length === 0) return;
  const linux = spec.linux ?? {};
  const rules = devices.flatMap((d) => deviceCgroupRule(d, access) ?? []);
  spec.linux = {
    ...linux,
    resources: { ...linux.resources, devices: [...(linux.resources?.devices ?? []), ...rules] },
    devices: [...(linux.devices ?? []), ...devices],
  };
}
