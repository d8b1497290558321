import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePlugin, initialSettings } from './index.ts';

describe('initialSettings()', () => {
  const config = decodePlugin({
    Id: 'a'.repeat(64),
    Config: {
      Env: [
        { Name: 'DEBUG', Value: '0' },
        { Name: 'NOVAL', Value: null },
        { Name: 'EMPTY', Value: '' },
      ],
      Args: { Name: 'args', Value: ['--a', '--b'] },
      Mounts: [{ Name: 'state', Source: '/srv', Destination: '/state' }],
      Linux: { Devices: [{ Name: 'fuse', Path: '/dev/fuse' }] },
    },
  }).Config;

  it('seeds env with the entries that have a value, in order', () => {
    assert.deepEqual(initialSettings(config).Env, ['DEBUG=0', 'EMPTY=']);
  });

  it('copies args, mounts and devices', () => {
    const s = initialSettings(config);
    assert.deepEqual(s.Args, ['--a', '--b']);
    assert.equal(s.Mounts[0]?.Source, '/srv');
    assert.equal(s.Devices[0]?.Path, '/dev/fuse');
  });

  it('copies deeply, so changing a setting never changes the manifest (moby aliasing bug)', () => {
    const s = initialSettings(config);
    (s.Mounts[0] as { Source: string }).Source = '/elsewhere';
    (s.Devices[0] as { Path: string }).Path = '/dev/zero';
    s.Args.push('--c');
    assert.equal(config.Mounts?.[0]?.Source, '/srv');
    assert.equal(config.Linux.Devices?.[0]?.Path, '/dev/fuse');
    assert.deepEqual(config.Args.Value, ['--a', '--b']);
  });

  it('gives empty arrays, never null, for an empty manifest', () => {
    const empty = decodePlugin({ Id: 'a'.repeat(64), Config: {} }).Config;
    assert.deepEqual(initialSettings(empty), { Args: [], Devices: [], Env: [], Mounts: [] });
  });
});
