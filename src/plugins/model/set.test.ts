import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJsonFixture } from '../../../test/fixtures.ts';
import { decodeManifest } from './manifest.ts';
import { applySettings } from './set.ts';
import { initialSettings } from './settings.ts';

const config = decodeManifest({
  ...readJsonFixture<Record<string, unknown>>('dockerd/example-plugin-config.json'),
  Env: [
    { Name: 'DEBUG', Settable: ['value'], Value: '0' },
    { Name: 'FIXED', Settable: [], Value: 'x' },
    { Name: 'NOVAL', Settable: ['value'] },
    { Name: 'log.level', Settable: ['value'], Value: 'info' },
  ],
  Mounts: [
    {
      Name: 'hoststate',
      Source: '/srv/a',
      Destination: '/hoststate',
      Type: 'bind',
      Options: ['rbind'],
      Settable: ['source'],
    },
    {
      Name: 'cache',
      Source: null,
      Destination: '/cache',
      Type: 'bind',
      Options: ['rbind'],
      Settable: ['source'],
    },
  ],
});
const settings = initialSettings(config);

describe('applySettings()', () => {
  it('sets env, mounts, devices and args in Settings only', () => {
    const s = applySettings(config, settings, [
      'DEBUG=3',
      'NOVAL',
      'hoststate.source=/srv/b',
      'fuse=/dev/null',
      'args=--x  --y',
    ]);
    assert.deepEqual(s.Env, ['DEBUG=3', 'FIXED=x', 'log.level=info', 'NOVAL=']);
    assert.equal(s.Mounts[0]?.Source, '/srv/b');
    assert.equal(s.Devices[0]?.Path, '/dev/null');
    assert.deepEqual(s.Args, ['--x', '--y']);
    assert.equal(config.Mounts?.[0]?.Source, '/srv/a', 'the manifest is untouched');
    assert.equal(settings.Env[0], 'DEBUG=0', 'the input settings are untouched');
  });

  it('sets a mount declared without a source (moby: "Plugin config has no mount source")', () => {
    assert.equal(applySettings(config, settings, ['cache=/var/cache/p']).Mounts[1]?.Source, '/var/cache/p');
  });

  it('sets env names that contain dots', () => {
    assert.ok(applySettings(config, settings, ['log.level=debug']).Env.includes('log.level=debug'));
    assert.ok(applySettings(config, settings, ['log.level.value=warn']).Env.includes('log.level=warn'));
  });

  it('parses args as JSON when they start with [', () => {
    assert.deepEqual(applySettings(config, settings, ['args=["--a b", ""]']).Args, ['--a b', '']);
    assert.deepEqual(applySettings(config, settings, ['args=']).Args, []);
    assert.throws(
      () => applySettings(config, settings, ['args=[1]']),
      /args value \[1\] is not a JSON array of strings/,
    );
  });

  it("is atomic and uses moby's messages", () => {
    const cases: [string[], RegExp][] = [
      [['DEBUG=3', 'UNKNOWN=1'], /setting "UNKNOWN" not found in the plugin configuration/],
      [['FIXED=y'], /"FIXED" is not settable/],
      [['DEBUG.path=1'], /"DEBUG.path" is not settable/],
      [['=1'], /invalid format, must be <name>\[.<field>\]\[=<value>\]/],
      [['hoststate=relative'], /mount source must be an absolute host path, got "relative"/],
    ];
    for (const [items, re] of cases)
      assert.throws(() => applySettings(config, settings, items), re, items.join(' '));
    assert.equal(settings.Env[0], 'DEBUG=0');
  });
});
