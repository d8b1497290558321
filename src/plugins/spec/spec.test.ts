import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FUSE, PLUGIN_ID as ID } from '../../../test/fixtures/spec-inputs.ts';
import { readFixture, readJsonFixture } from '../../../test/fixtures.ts';
import { InvalidParameterError } from '../../errdefs/index.ts';
import {
  DEFAULT_CAPABILITIES,
  defaultSpec,
  type LinuxDevice,
  type Mount,
  validateSpec,
} from '../../oci/index.ts';
import {
  decodePlugin,
  METRICS_COLLECTOR_TYPE,
  type Plugin,
  type PluginMount,
  type PluginSpecInput,
  pluginSpec,
} from '../index.ts';

function inputFor(plugin: Plugin, devices: LinuxDevice[] = []): PluginSpecInput {
  const root = `/var/lib/docker/plugins/${plugin.Id}`;
  return {
    name: plugin.Name || plugin.Id,
    config: plugin.Config,
    settings: plugin.Settings,
    rootfs: `${root}/rootfs`,
    propagatedMountSource: `${root}/propagated-mount`,
    socketDir: `/run/docker/plugins/${plugin.Id}`,
    devices,
    metricsSocket: '/run/berth/metrics.sock',
  };
}

/** A plugin from a partial manifest; mounts given as [destination, type?] become settings mounts. */
function plugin(config: Record<string, unknown> = {}): Plugin {
  return decodePlugin({ Id: ID, Config: { Entrypoint: ['/plugin'], ...config } });
}

const mount = (Destination: string, Type = 'bind'): Partial<PluginMount> => ({
  Name: Destination.replaceAll('/', '_'),
  Destination,
  Type,
  Source: `/host${Destination}`,
  Options: ['rbind'],
});

const destinations = (mounts: Mount[] | undefined) => mounts?.map((m) => `${m.destination}:${m.type}`);
const DEFAULTS = destinations(defaultSpec().mounts) ?? [];
const SOCKET = '/run/docker/plugins:bind';

describe('pluginSpec()', () => {
  it('is byte-identical to the config.json dockerd 20.10.24 wrote for the same plugin', () => {
    const raw = readJsonFixture('dockerd/api-inspect-raw.json');
    const spec = pluginSpec(inputFor(decodePlugin(raw), [FUSE]));
    assert.equal(
      JSON.stringify(spec, null, 4),
      readFixture('dockerd/dockerd-plugin-oci-config.json').trimEnd(),
    );
  });

  describe('default mounts shadowed by plugin mounts (moby §4.2 bug fixed)', () => {
    const without = (...dests: string[]) => DEFAULTS.filter((d) => !dests.includes(d.split(':')[0] ?? ''));
    const cases: [string, Record<string, unknown>, string[]][] = [
      [
        '/dev/shm replaces the default shm',
        { Mounts: [mount('/dev/shm')] },
        [...without('/dev/shm'), '/dev/shm:bind', SOCKET],
      ],
      [
        '/dev/shm with a propagated mount keeps both (moby lost /dev/shm entirely)',
        { Mounts: [mount('/dev/shm')], PropagatedMount: '/data' },
        [...without('/dev/shm'), '/data:bind', '/dev/shm:bind', SOCKET],
      ],
      [
        '/dev/mqueue and /dev/shm replace both defaults (moby kept two shm, no mqueue)',
        { Mounts: [mount('/dev/mqueue'), mount('/dev/shm')] },
        [...without('/dev/mqueue', '/dev/shm'), '/dev/mqueue:bind', '/dev/shm:bind', SOCKET],
      ],
      [
        '/dev and /dev/fuse are both kept (moby dropped /dev/fuse)',
        { Mounts: [mount('/dev'), mount('/dev/fuse')] },
        [...without('/dev'), '/dev:bind', '/dev/fuse:bind', SOCKET],
      ],
      [
        'a trailing slash still names the same destination',
        { Mounts: [mount('/dev/shm/')] },
        [...without('/dev/shm'), '/dev/shm/:bind', SOCKET],
      ],
      [
        'an unrelated destination drops nothing',
        { Mounts: [mount('/dev/shmx')] },
        [...DEFAULTS, '/dev/shmx:bind', SOCKET],
      ],
    ];
    for (const [name, config, expected] of cases) {
      it(name, () => assert.deepEqual(destinations(pluginSpec(inputFor(plugin(config))).mounts), expected));
    }
  });

  describe('network', () => {
    const etc = ['/etc/hosts:bind', '/etc/resolv.conf:bind'];
    for (const [type, hasNetns, binds] of [
      ['', true, []],
      ['host', false, etc],
      ['bridge', true, etc],
      ['none', true, etc],
    ] as const) {
      it(`type "${type}": ${hasNetns ? 'own' : 'host'} network namespace, ${binds.length ? 'host' : 'no'} /etc files`, () => {
        const spec = pluginSpec(inputFor(plugin({ Network: { Type: type } })));
        assert.equal(
          spec.linux?.namespaces?.some((n) => n.type === 'network'),
          hasNetns,
        );
        assert.deepEqual(destinations(spec.mounts)?.slice(DEFAULTS.length + 1), binds);
        if (binds.length) {
          assert.deepEqual(spec.mounts?.at(-1), {
            destination: '/etc/resolv.conf',
            type: 'bind',
            source: '/etc/resolv.conf',
            options: ['rbind', 'ro'],
          });
        }
      });
    }
  });

  it('PidHost and IpcHost remove those namespaces', () => {
    const spec = pluginSpec(inputFor(plugin({ PidHost: true, IpcHost: true })));
    assert.deepEqual(
      spec.linux?.namespaces?.map((n) => n.type),
      ['mount', 'network', 'uts'],
    );
  });

  it('binds the socket directory at /run/docker/plugins with rbind,rshared', () => {
    const spec = pluginSpec(inputFor(plugin()));
    assert.deepEqual(spec.mounts?.at(-1), {
      destination: '/run/docker/plugins',
      type: 'bind',
      source: `/run/docker/plugins/${ID}`,
      options: ['rbind', 'rshared'],
    });
  });

  it('a propagated mount comes first after the defaults and makes rootfs propagation rshared', () => {
    const spec = pluginSpec(inputFor(plugin({ PropagatedMount: '/data', Mounts: [mount('/x')] })));
    assert.deepEqual(spec.mounts?.[DEFAULTS.length], {
      destination: '/data',
      type: 'bind',
      source: `/var/lib/docker/plugins/${ID}/propagated-mount`,
      options: ['rbind', 'rw', 'rshared'],
    });
    assert.equal(spec.linux?.rootfsPropagation, 'rshared');
    assert.equal(pluginSpec(inputFor(plugin())).linux?.rootfsPropagation, undefined);
  });

  it('omits empty mount type and options as Go does', () => {
    const spec = pluginSpec(inputFor(plugin({ Mounts: [{ Name: 'm', Destination: '/m', Source: '/s' }] })));
    assert.deepEqual(spec.mounts?.[DEFAULTS.length], { destination: '/m', source: '/s' });
  });

  it('takes mounts from Settings, not from the manifest', () => {
    const p = plugin({ Mounts: [mount('/state')] });
    const settings = {
      ...p.Settings,
      Mounts: [{ ...(p.Settings.Mounts[0] as PluginMount), Source: '/user/choice' }],
    };
    const spec = pluginSpec({ ...inputFor(p), settings });
    assert.equal(spec.mounts?.find((m) => m.destination === '/state')?.source, '/user/choice');
  });

  it('refuses a mount without source, naming it and the fix', () => {
    const p = plugin({ Mounts: [{ Name: 'state', Destination: '/state', Source: null }] });
    assert.throws(
      () => pluginSpec(inputFor(p)),
      (err: unknown) => {
        assert.ok(err instanceof InvalidParameterError);
        assert.match(
          err.message,
          /^mount source is not specified for mount "state" at "\/state": set it with "berth plugin set 6f71fcb6\w+ state\.source=\/host\/path"$/,
        );
        return true;
      },
    );
  });

  it('AllowAllDevices replaces the cgroup rules with one allow-all, then devices follow', () => {
    const spec = pluginSpec(inputFor(plugin({ Linux: { AllowAllDevices: true } }), [FUSE]));
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: true, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    assert.deepEqual(spec.linux?.devices, [FUSE]);
  });

  it('builds process args, env and cwd as moby', () => {
    const p = decodePlugin({
      Id: ID,
      Config: {
        Entrypoint: ['/bin/plugin', '-v'],
        WorkDir: '/work',
        Args: { Name: 'args', Value: ['--a'] },
        Env: [
          { Name: 'A', Value: '1' },
          { Name: 'B', Value: null },
        ],
      },
    });
    const spec = pluginSpec(inputFor(p));
    assert.deepEqual(spec.process?.args, ['/bin/plugin', '-v', '--a']);
    assert.deepEqual(spec.process?.env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'A=1',
    ]);
    assert.equal(spec.process?.cwd, '/work');
    assert.equal(spec.process?.terminal, undefined);
    assert.equal(pluginSpec(inputFor(plugin())).process?.cwd, '/');
  });

  it('appends plugin capabilities to all four sets; inheritable holds only them', () => {
    const caps = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];
    const spec = pluginSpec(inputFor(plugin({ Linux: { Capabilities: caps } })));
    const all = [...DEFAULT_CAPABILITIES, ...caps];
    assert.deepEqual(spec.process?.capabilities, {
      bounding: all,
      effective: all,
      inheritable: caps,
      permitted: all,
    });
    assert.equal('ambient' in (spec.process?.capabilities ?? {}), false);
  });

  it('binds the metrics socket read-only into a docker.metricscollector/1.0 plugin only', () => {
    const metrics = pluginSpec(
      inputFor(plugin({ Interface: { Types: [METRICS_COLLECTOR_TYPE], Socket: 'm.sock' } })),
    );
    assert.deepEqual(metrics.mounts?.at(-1), {
      destination: '/run/docker/metrics.sock',
      type: 'bind',
      source: '/run/berth/metrics.sock',
      options: ['bind', 'ro'],
    });
    const v11 = pluginSpec(inputFor(plugin({ Interface: { Types: ['docker.metricscollector/1.1'] } })));
    assert.equal(
      v11.mounts?.some((m) => m.destination === '/run/docker/metrics.sock'),
      false,
    );
  });
});

// ---- properties over arbitrary plugins ----

const CAPS = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_IPC_LOCK', 'CAP_SYS_PTRACE'];
const DESTS = [
  '/dev',
  '/dev/shm',
  '/dev/mqueue',
  '/proc',
  '/sys/fs/cgroup',
  '/data',
  '/mnt/a',
  '/mnt/a/b',
  '/dev/fuse',
];
const arbMount = fc.record({
  Name: fc.string({ minLength: 1, maxLength: 8 }),
  Description: fc.constant(''),
  Settable: fc.constant(null),
  Source: fc.constantFrom('/srv/a', '/var/lib/x', 'tmpfs'),
  Destination: fc.oneof(fc.constantFrom(...DESTS), fc.stringMatching(/^\/[a-z]{1,6}(\/[a-z]{1,4})?$/)),
  Type: fc.constantFrom('bind', 'tmpfs', ''),
  Options: fc.oneof(fc.constant(null), fc.subarray(['rbind', 'ro', 'rw', 'nosuid'])),
});
const arbDevice: fc.Arbitrary<LinuxDevice> = fc.record({
  path: fc.stringMatching(/^\/dev\/[a-z]{1,6}$/),
  type: fc.constantFrom('c', 'b', 'p'),
  major: fc.nat(4095),
  minor: fc.nat(1048575),
  fileMode: fc.constantFrom(0o600, 0o666, 0o660),
  uid: fc.nat(65535),
  gid: fc.nat(65535),
});
const arbPlugin = fc
  .record({
    Entrypoint: fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
    WorkDir: fc.constantFrom('', '/', '/work'),
    Network: fc.record({ Type: fc.constantFrom('', 'host', 'bridge', 'none') }),
    PidHost: fc.boolean(),
    IpcHost: fc.boolean(),
    PropagatedMount: fc.constantFrom('', '/data', '/dev/shm'),
    Mounts: fc.array(arbMount, { maxLength: 5 }),
    Interface: fc.record({
      Types: fc.subarray([METRICS_COLLECTOR_TYPE, 'docker.volumedriver/1.0']),
      Socket: fc.constant('p.sock'),
    }),
    Linux: fc.record({
      AllowAllDevices: fc.boolean(),
      Capabilities: fc.subarray(CAPS),
      Devices: fc.constant(null),
    }),
    Env: fc.array(
      fc.record({ Name: fc.stringMatching(/^[A-Z][A-Z0-9_.]{0,6}$/), Value: fc.option(fc.string()) }),
      {
        maxLength: 3,
      },
    ),
  })
  .map((Config) => decodePlugin({ Id: ID, Config }));

describe('pluginSpec() properties', () => {
  it('always conforms to the OCI schema (berth flavor)', () => {
    fc.assert(
      fc.property(arbPlugin, fc.array(arbDevice, { maxLength: 3 }), (p, devices) => {
        assert.deepEqual(validateSpec(pluginSpec(inputFor(p, devices))), []);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every plugin mount in order and drops exactly the shadowed defaults', () => {
    fc.assert(
      fc.property(arbPlugin, (p) => {
        // The model: moby's plugin mounts in moby's order, after the defaults they do not shadow.
        const c = p.Config;
        const added = [
          ...(c.PropagatedMount ? [c.PropagatedMount] : []),
          ...p.Settings.Mounts.map((m) => m.Destination),
          '/run/docker/plugins',
          ...(c.Network.Type ? ['/etc/hosts', '/etc/resolv.conf'] : []),
          ...(c.Interface.Types?.includes(METRICS_COLLECTOR_TYPE) ? ['/run/docker/metrics.sock'] : []),
        ];
        const norm = (d: string) => (d.length > 1 ? d.replace(/\/+$/, '') : d);
        const taken = new Set(added.map(norm));
        const kept = (defaultSpec().mounts ?? []).filter((d) => !taken.has(d.destination));
        const spec = pluginSpec(inputFor(p));
        assert.deepEqual(
          spec.mounts?.map((m) => m.destination),
          [...kept.map((d) => d.destination), ...added],
        );
        assert.deepEqual(spec.mounts?.slice(0, kept.length), kept);
      }),
      { numRuns: 300 },
    );
  });

  it('derives namespaces and capabilities from the flags only, and never mutates its input', () => {
    fc.assert(
      fc.property(arbPlugin, (p) => {
        const input = inputFor(p);
        const before = JSON.stringify(input);
        const spec = pluginSpec(input);
        assert.equal(JSON.stringify(input), before);
        const expectedNs = ['mount', 'network', 'uts', 'pid', 'ipc'].filter(
          (t) =>
            !(t === 'network' && p.Config.Network.Type === 'host') &&
            !(t === 'pid' && p.Config.PidHost) &&
            !(t === 'ipc' && p.Config.IpcHost),
        );
        assert.deepEqual(
          spec.linux?.namespaces?.map((n) => n.type),
          expectedNs,
        );
        const extra = p.Config.Linux.Capabilities ?? [];
        assert.deepEqual(spec.process?.capabilities?.bounding, [...DEFAULT_CAPABILITIES, ...extra]);
        assert.deepEqual(spec.process?.capabilities?.inheritable, extra.length ? extra : undefined);
      }),
      { numRuns: 300 },
    );
  });
});
