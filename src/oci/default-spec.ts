import type { LinuxDeviceCgroup, Mount, Spec } from './types.ts';

/** runtime-spec version moby 20.10 writes; runc 1.1 reports the same (`spec: 1.0.2-dev`). */
export const OCI_VERSION = '1.0.2-dev';

/** The capabilities Docker grants a container by default, in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['ro', 'nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777'],
    },
  ];
}

const charRule = (allow: boolean, major: number, minor: number): LinuxDeviceCgroup => ({
  allow,
  type: 'c',
  major,
  minor,
  access: 'rwm',
});

function defaultDeviceRules(): LinuxDeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    charRule(true, 1, 5), // zero
    charRule(true, 1, 3), // null
    charRule(true, 1, 9), // urandom
    charRule(true, 1, 8), // random
    charRule(true, 5, 0), // tty
    charRule(true, 5, 1), // console
    charRule(false, 10, 229), // fuse
  ];
}

/**
 * Docker's default Linux OCI spec (moby 20.10 `oci.DefaultLinuxSpec`), field for field and in array order.
 *
 * Keys are created in the order Go's `specs-go` structs serialise them and empty values are left out as Go's
 * `omitempty` does, so `JSON.stringify(defaultSpec())` reads like dockerd's own output. The inheritable set
 * is absent (empty) as in moby ≥ 20.10.14. Every call returns a fresh object the caller may mutate.
 *
 * @returns a new spec with no root path, no args and `cwd: ""`, ready to be completed
 * @example
 * ```ts
 * const spec = defaultSpec();
 * spec.process!.args = ['/bin/sh'];
 * ```
 */
export function defaultSpec(): Spec {
  return {
    ociVersion: OCI_VERSION,
    process: {
      user: { uid: 0, gid: 0 },
      cwd: '',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
    },
    root: { path: '' },
    mounts: defaultMounts(),
    linux: {
      resources: { devices: defaultDeviceRules() },
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
      maskedPaths: [
        '/proc/asound',
        '/proc/acpi',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
