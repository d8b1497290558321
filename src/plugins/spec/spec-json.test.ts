import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FUSE, PLUGIN_ID as ID } from '../../../test/fixtures/spec-inputs.ts';
import { readJsonFixture } from '../../../test/fixtures.ts';
import type { LinuxDevice } from '../../oci/index.ts';
import {
  decodePlugin,
  METRICS_COLLECTOR_TYPE,
  type Plugin,
  type PluginResources,
  type PluginSpecInput,
  pluginSpec,
  pluginSpecJson,
} from '../index.ts';

const FIFO: LinuxDevice = { path: '/dev/f', type: 'p', major: 0, minor: 0, fileMode: 420, uid: 0, gid: 0 };

function inputFor(plugin: Plugin, devices: LinuxDevice[] = [], resources?: PluginResources): PluginSpecInput {
  return {
    name: plugin.Name || plugin.Id,
    config: plugin.Config,
    settings: plugin.Settings,
    rootfs: `/var/lib/berth/plugins/${plugin.Id}/rootfs`,
    propagatedMountSource: `/var/lib/berth/plugins/${plugin.Id}/propagated-mount`,
    socketDir: `/run/berth/plugins/${plugin.Id}`,
    devices,
    metricsSocket: '/run/berth/metrics.sock',
    ...(resources ? { resources } : {}),
  };
}

const plugin = (config: Record<string, unknown> = {}): Plugin =>
  decodePlugin({ Id: ID, Config: { Entrypoint: ['/plugin'], ...config } });
const bindAt = (Destination: string, Options: string[] | null = ['rbind']) => ({
  Name: Destination,
  Destination,
  Type: 'bind',
  Source: '/srv/x',
  Options,
});

const sameAsStringify = (input: PluginSpecInput): void =>
  assert.equal(pluginSpecJson(input), JSON.stringify(pluginSpec(input)));

describe('pluginSpecJson()', () => {
  const cases: [string, PluginSpecInput][] = [
    [
      'the dockerd fixture with /dev/fuse',
      inputFor(decodePlugin(readJsonFixture('dockerd/api-inspect-raw.json')), [FUSE]),
    ],
    ['a bare plugin', inputFor(plugin())],
    ['no entrypoint and no args', inputFor(plugin({ Entrypoint: null }))],
    [
      'host network, pid and ipc',
      inputFor(plugin({ Network: { Type: 'host' }, PidHost: true, IpcHost: true })),
    ],
    ['bridge network (/etc binds)', inputFor(plugin({ Network: { Type: 'bridge' } }))],
    [
      'AllowAllDevices and devices, a FIFO without rule',
      inputFor(plugin({ Linux: { AllowAllDevices: true } }), [FUSE, FIFO]),
    ],
    [
      'capabilities (inheritable)',
      inputFor(plugin({ Linux: { Capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } })),
    ],
    [
      'mounts shadowing defaults, unnormalised',
      inputFor(plugin({ Mounts: [bindAt('/dev/shm/'), bindAt('//proc'), bindAt('/m', null)] })),
    ],
    [
      'propagated mount and metrics socket',
      inputFor(
        plugin({
          PropagatedMount: '/data',
          Interface: { Types: [METRICS_COLLECTOR_TYPE], Socket: 'p.sock' },
        }),
      ),
    ],
    [
      'limits',
      inputFor(plugin(), [FUSE], { Memory: 64 << 20, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 50 }),
    ],
    ['an empty limits object', inputFor(plugin(), [], {})],
    [
      'strings that need escaping',
      inputFor(plugin({ Entrypoint: ['/p "q"\\\n', '\u2028\ud800'], WorkDir: '/w\t' })),
    ],
  ];
  for (const [name, input] of cases)
    it(`is JSON.stringify(pluginSpec()) for ${name}`, () => sameAsStringify(input));

  it('throws as pluginSpec() for a mount without source', () => {
    const input = inputFor(plugin({ Mounts: [{ Name: 's', Destination: '/s', Source: null }] }));
    assert.throws(() => pluginSpec(input));
    assert.throws(() => pluginSpecJson(input), /mount source is not specified for mount "s"/);
  });

  it('is JSON.stringify(pluginSpec()) for arbitrary plugins', () => {
    const arbConfig = fc.record({
      Entrypoint: fc.option(fc.array(fc.string(), { maxLength: 3 })),
      WorkDir: fc.constantFrom('', '/', '/work'),
      Network: fc.record({ Type: fc.constantFrom('', 'host', 'bridge') }),
      PidHost: fc.boolean(),
      IpcHost: fc.boolean(),
      PropagatedMount: fc.constantFrom('', '/data', '/dev/shm'),
      Mounts: fc.array(
        fc.constantFrom('/dev/pts', '/sys/', '/x', '/proc/../dev').map((d) => bindAt(d)),
        { maxLength: 3 },
      ),
      Interface: fc.record({ Types: fc.subarray([METRICS_COLLECTOR_TYPE]), Socket: fc.constant('p.sock') }),
      Linux: fc.record({
        AllowAllDevices: fc.boolean(),
        Capabilities: fc.subarray(['CAP_SYS_ADMIN', 'CAP_IPC_LOCK']),
      }),
    });
    const arbResources = fc.option(
      fc.record({ Memory: fc.nat(), PidsLimit: fc.nat() }, { requiredKeys: [] }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(arbConfig, fc.subarray([FUSE, FIFO]), arbResources, (config, devices, resources) =>
        sameAsStringify(inputFor(decodePlugin({ Id: ID, Config: config }), devices, resources)),
      ),
      { numRuns: 300 },
    );
  });
});
