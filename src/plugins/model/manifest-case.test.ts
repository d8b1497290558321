/**
 * Manifests as plugins really write them: Docker's plugin documentation and most published plugins use lower-case
 * keys, which dockerd's Go decoder matches case-insensitively. berth decodes them to the same manifest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readJsonFixture } from '../../../test/fixtures.ts';
import { decodePlugin } from './decode.ts';
import { decodeManifest, decodeManifestWithWarnings, manifestProblems } from './manifest.ts';

/** The examples of Docker's plugin documentation, written as it writes them. */
const DOCUMENTED: Record<string, unknown> = {
  // docs/extend/index.md, "Developing a plugin" (the vieux/sshfs manifest)
  'sshfs (docs/extend/index.md)': {
    description: 'sshFS plugin for Docker',
    documentation: 'https://docs.docker.com/engine/extend/plugins/',
    entrypoint: ['/docker-volume-sshfs'],
    network: { type: 'host' },
    interface: { types: ['docker.volumedriver/1.0'], socket: 'sshfs.sock' },
    linux: { capabilities: ['CAP_SYS_ADMIN'] },
  },
  // the vieux/sshfs repository's config.json
  'vieux/sshfs config.json': {
    description: 'sshFS plugin for Docker',
    documentation: 'https://docs.docker.com/engine/extend/plugins/',
    entrypoint: ['/docker-volume-sshfs'],
    env: [{ name: 'DEBUG', settable: ['value'], value: '0' }],
    interface: { socket: 'sshfs.sock', types: ['docker.volumedriver/1.0'] },
    linux: { capabilities: ['CAP_SYS_ADMIN'], devices: [{ path: '/dev/fuse' }] },
    mounts: [
      {
        destination: '/mnt/state',
        options: ['rbind'],
        name: 'state',
        source: '/var/lib/docker/plugins/',
        settable: ['source'],
        type: 'bind',
      },
    ],
    network: { type: 'host' },
    propagatedmount: '/mnt/volumes',
  },
  // docs/extend/config.md, "Example Config" (note "Workdir" for WorkDir)
  'config.md example': {
    Args: { Description: '', Name: '', Settable: null, Value: null },
    Description: 'A sample volume plugin for Docker',
    Documentation: 'https://docs.docker.com/engine/extend/plugins/',
    Entrypoint: ['/usr/bin/sample-volume-plugin', '/data'],
    Env: [{ Description: '', Name: 'DEBUG', Settable: ['value'], Value: '0' }],
    Interface: { Socket: 'plugin.sock', Types: ['docker.volumedriver/1.0'] },
    Linux: { Capabilities: null, AllowAllDevices: false, Devices: null },
    Mounts: null,
    Network: { Type: '' },
    PropagatedMount: '/data',
    User: {},
    Workdir: '',
  },
  // docs/extend/plugins_logging.md style log driver
  'log driver (lower case)': {
    description: 'log driver',
    entrypoint: ['/usr/bin/docker-log-driver'],
    interface: { types: ['docker.logdriver/1.0'], socket: 'jsonfile.sock' },
  },
};

describe('manifests in lower and mixed case', () => {
  for (const [name, manifest] of Object.entries(DOCUMENTED)) {
    it(`accepts ${name} without problems or warnings`, () => {
      const { config, warnings } = decodeManifestWithWarnings(manifest);
      assert.deepEqual(manifestProblems(config), []);
      assert.deepEqual(warnings, []);
      assert.ok((config.Interface.Types ?? []).length > 0);
      assert.ok((config.Entrypoint ?? []).length > 0);
    });
  }

  it('decodes the lower-case sshfs manifest to the canonical fields', () => {
    const c = decodeManifest(DOCUMENTED['vieux/sshfs config.json']);
    assert.equal(c.PropagatedMount, '/mnt/volumes');
    assert.deepEqual(c.Linux.Devices, [{ Name: '', Description: '', Settable: null, Path: '/dev/fuse' }]);
    assert.deepEqual(c.Mounts?.[0]?.Settable, ['source']);
    assert.equal(c.Network.Type, 'host');
    assert.deepEqual(c.Env?.[0], { Name: 'DEBUG', Description: '', Settable: ['value'], Value: '0' });
  });

  it('keeps validation as strict on decoded values', () => {
    const problems = manifestProblems(
      decodeManifest({
        interface: { types: ['docker.VolumeDriver/1.0'], socket: '/abs.sock' },
        entrypoint: [],
      }),
    );
    assert.ok(problems.some((p) => p.includes('must look like "docker.volumedriver/1.0"')));
    assert.ok(problems.some((p) => p.includes('Interface.Socket')));
    assert.throws(
      () => decodeManifest({ interface: { types: [1] } }),
      /config.json.Interface.Types\[0\] must be/,
    );
  });

  it('warns about unknown keys instead of refusing them', () => {
    const { config, warnings } = decodeManifestWithWarnings({
      ...(DOCUMENTED['sshfs (docs/extend/index.md)'] as object),
      entrypiont: ['/x'],
      interface: { types: ['docker.volumedriver/1.0'], socket: 's.sock', extra: true },
    });
    assert.deepEqual(manifestProblems(config), []);
    assert.deepEqual(warnings, [
      'config.json.Interface.extra: unknown key ignored',
      'config.json.entrypiont: unknown key ignored (did you mean "Entrypoint"?)',
    ]);
  });

  /** The same JSON with each key's case changed by `pick` (a seed per key). */
  const recase = (v: unknown, pick: () => number): unknown => {
    if (Array.isArray(v)) return v.map((x) => recase(x, pick));
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        const n = pick();
        const key = [...k]
          .map((ch, i) => ((n >> (i % 16)) & 1 ? ch.toUpperCase() : ch.toLowerCase()))
          .join('');
        return [key, recase(x, pick)];
      }),
    );
  };

  it('never changes the result when the case of any key changes (fast-check)', () => {
    const inputs = [
      readJsonFixture<unknown>('dockerd/example-plugin-config.json'),
      ...Object.values(DOCUMENTED),
    ];
    const plugin = readJsonFixture<{ Config: unknown }>('dockerd/api-inspect-raw.json');
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 64 }), (seeds) => {
        let i = 0;
        const pick = () => seeds[i++ % seeds.length] ?? 0;
        for (const input of inputs) {
          const mixed = recase(input, pick);
          assert.deepEqual(decodeManifest(mixed), decodeManifest(input));
          assert.deepEqual(decodeManifestWithWarnings(mixed).warnings, []);
        }
        assert.deepEqual(decodePlugin(recase(plugin, pick)), decodePlugin(plugin));
      }),
      { numRuns: 200 },
    );
  });
});
