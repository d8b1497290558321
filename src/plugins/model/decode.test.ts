import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJsonFixture } from '../../../test/fixtures.ts';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { decodePlugin } from '../index.ts';

const ID = 'a'.repeat(64);

describe('decodePlugin()', () => {
  it('accepts raw dockerd inspect output unchanged', () => {
    const raw = readJsonFixture<Record<string, unknown>>('dockerd/api-inspect-raw.json');
    assert.deepEqual(decodePlugin(raw), raw);
  });

  it('fills Go zero values for missing keys', () => {
    const p = decodePlugin({ Id: ID, Config: {} });
    assert.deepEqual(p.Config.Network, { Type: '' });
    assert.equal(p.Config.Entrypoint, null);
    assert.equal(p.Config.Mounts, null);
    assert.equal(p.Config.WorkDir, '');
    assert.deepEqual(p.Config.Linux, { AllowAllDevices: false, Capabilities: null, Devices: null });
    assert.deepEqual(p.Config.Interface, { Types: null, Socket: '' });
    assert.equal(p.Enabled, false);
  });

  it('initialises missing Settings from the manifest', () => {
    const p = decodePlugin({
      Id: ID,
      Config: {
        Env: [{ Name: 'A', Value: 'x' }, { Name: 'B' }],
        Args: { Value: ['-v'] },
        Mounts: [{ Name: 'm' }],
      },
    });
    assert.deepEqual(p.Settings.Env, ['A=x']);
    assert.deepEqual(p.Settings.Args, ['-v']);
    assert.equal(p.Settings.Mounts[0]?.Name, 'm');
  });

  it('does not modify its input', () => {
    const input = { Id: ID, Config: {} };
    decodePlugin(input);
    assert.deepEqual(input, { Id: ID, Config: {} });
  });

  const bad: [string, unknown, string][] = [
    ['a non-object', 42, 'plugin must be object, not 42'],
    ['no Config', { Id: ID }, 'plugin.Config is required'],
    ['no Id', { Config: {} }, 'plugin.Id is required'],
    [
      'a numeric mount source',
      { Id: ID, Config: { Mounts: [{ Source: 42 }] } },
      'plugin.Config.Mounts[0].Source must be string or null, not 42',
    ],
    [
      'capabilities as a string',
      { Id: ID, Config: { Linux: { Capabilities: 'CAP_X' } } },
      'plugin.Config.Linux.Capabilities must be array or null, not "CAP_X"',
    ],
    [
      'settings env with a number',
      { Id: ID, Config: {}, Settings: { Env: [1] } },
      'plugin.Settings.Env[0] must be string, not 1',
    ],
    ['a negative uid', { Id: ID, Config: { User: { UID: -1 } } }, 'plugin.Config.User.UID must be >= 0'],
  ];
  for (const [what, input, message] of bad) {
    it(`rejects ${what} naming the field`, () => {
      assert.throws(
        () => decodePlugin(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidParameterError);
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }
});
