import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSpec } from '../../oci/index.ts';
import { buildPluginSpec, decodePlugin, type PluginSpecInput, pluginSpec } from '../index.ts';

const ID = '6f71fcb6bbe9d4c7235a89e0b9095023fbb1b15e23c64d34f03707de4c05c255';
const MiB = 1024 * 1024;

function input(
  resources: PluginSpecInput['resources'],
  config: Record<string, unknown> = {},
): PluginSpecInput {
  const plugin = decodePlugin({ Id: ID, Config: { Entrypoint: ['/plugin'], ...config } });
  return {
    name: 'x',
    config: plugin.Config,
    settings: plugin.Settings,
    rootfs: '/p/rootfs',
    propagatedMountSource: '/p/propagated-mount',
    socketDir: `/run/docker/plugins/${ID}`,
    devices: [],
    metricsSocket: '/run/berth/metrics.sock',
    resources,
  };
}

describe('pluginSpec() with resource limits', () => {
  it('adds memory, cpu and pids to linux.resources beside the device rules, and validates', () => {
    const spec = pluginSpec(
      input({ Memory: 64 * MiB, MemorySwap: 64 * MiB, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 50 }),
    );
    const r = spec.linux?.resources;
    assert.equal(r?.devices?.[0]?.allow, false, 'default deny rule kept');
    assert.deepEqual(r?.memory, { limit: 64 * MiB, swap: 64 * MiB });
    assert.deepEqual(r?.cpu, { shares: 512, quota: 50_000, period: 100_000 });
    assert.deepEqual(r?.pids, { limit: 50 });
    assert.deepEqual(validateSpec(spec), []);
  });

  it('keeps AllowAllDevices and unlimited swap, and validates', () => {
    const spec = pluginSpec(
      input({ Memory: 64 * MiB, MemorySwap: -1 }, { Linux: { AllowAllDevices: true } }),
    );
    assert.deepEqual(spec.linux?.resources, {
      devices: [{ allow: true, access: 'rwm' }],
      memory: { limit: 64 * MiB, swap: -1 },
    });
    assert.deepEqual(validateSpec(spec), []);
  });

  it('without limits the spec is what it was (dockerd)', () => {
    assert.deepEqual(pluginSpec(input(undefined)), pluginSpec(input({})));
    assert.equal(pluginSpec(input(undefined)).linux?.resources?.memory, undefined);
  });

  it('buildPluginSpec refuses a bad limit in the Plugin object, naming the field', () => {
    const plugin = decodePlugin({ Id: ID, Config: { Entrypoint: ['/p'] }, Resources: { Memory: 1024 } });
    assert.throws(
      () => buildPluginSpec(plugin, { rootfs: '/p/rootfs', execRoot: '/nonexistent/never-created' }),
      /^InvalidParameterError: plugin.Resources.Memory: minimum memory limit allowed is 6MB/,
    );
  });
});
