import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePlugin, initialSettings } from '../index.ts';
import { upgradeSettings } from './settings.ts';

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

describe('upgradeSettings()', () => {
  const v1 = decodePlugin({
    Id: 'a'.repeat(64),
    Config: {
      Env: [
        { Name: 'DEBUG', Value: '0' },
        { Name: 'GONE', Value: 'x' },
      ],
      Args: { Name: 'args', Value: ['--a'] },
      Mounts: [{ Name: 'state', Source: '/srv', Destination: '/state' }],
      Linux: { Devices: [{ Name: 'fuse', Path: '/dev/fuse' }] },
    },
  }).Config;
  const v2 = decodePlugin({
    Id: 'a'.repeat(64),
    Config: {
      Env: [
        { Name: 'DEBUG', Value: '1' },
        { Name: 'NEW', Value: 'n' },
      ],
      Args: { Name: 'args', Value: ['--b'] },
      Mounts: [{ Name: 'state', Source: '/var/state', Destination: '/state' }],
      Linux: { Devices: [] },
    },
  }).Config;

  it('takes the new defaults when the user changed nothing', () => {
    const merge = upgradeSettings(v1, initialSettings(v1), v2);
    assert.deepEqual(merge.settings, initialSettings(v2));
    assert.deepEqual([merge.kept, merge.dropped], [[], []]);
  });

  it('carries the user values the new version still declares and reports the others as dropped', () => {
    const user = {
      Env: ['DEBUG=9', 'GONE=y'],
      Args: ['--mine'],
      Mounts: [{ ...initialSettings(v1).Mounts[0], Source: '/mine' }] as ReturnType<
        typeof initialSettings
      >['Mounts'],
      Devices: [{ ...initialSettings(v1).Devices[0], Path: '/dev/mine' }] as ReturnType<
        typeof initialSettings
      >['Devices'],
    };
    const merge = upgradeSettings(v1, user, v2);
    assert.deepEqual(merge.settings.Env, ['DEBUG=9', 'NEW=n']);
    assert.deepEqual(merge.settings.Args, ['--mine']);
    assert.equal(merge.settings.Mounts[0]?.Source, '/mine');
    assert.deepEqual(merge.settings.Devices, []);
    assert.deepEqual(merge.kept, ['DEBUG=9', 'state=/mine', 'args=--mine']);
    assert.deepEqual(merge.dropped, ['GONE=y', 'fuse=/dev/mine']);
  });
});
