import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { buildPluginSpec, decodePlugin, resolvePluginSpecInput } from '../index.ts';

const ID = 'b'.repeat(64);

describe('resolvePluginSpecInput()', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(`${tmpdir()}/berth-spec-input-`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the socket directory <execRoot>/<Id> with mode 0700 and derives the paths', () => {
    const input = resolvePluginSpecInput(decodePlugin({ Id: ID, Config: {} }), {
      rootfs: '/var/lib/berth/plugins/x/rootfs',
      execRoot: `${dir}/exec`,
    });
    assert.equal(input.socketDir, `${dir}/exec/${ID}`);
    assert.equal(statSync(input.socketDir).mode & 0o777, 0o700);
    assert.equal(input.propagatedMountSource, '/var/lib/berth/plugins/x/propagated-mount');
    assert.equal(input.metricsSocket, `${dir}/exec/metrics.sock`);
  });

  it('resolves settings devices on the host, in order', () => {
    const plugin = decodePlugin({
      Id: ID,
      Config: {
        Linux: {
          Devices: [
            { Name: 'z', Path: '/dev/zero' },
            { Name: 'n', Path: '/dev/null' },
          ],
        },
      },
    });
    const input = resolvePluginSpecInput(plugin, { rootfs: '/r', execRoot: dir });
    assert.deepEqual(
      input.devices.map((d) => [d.path, d.major, d.minor]),
      [
        ['/dev/zero', 1, 5],
        ['/dev/null', 1, 3],
      ],
    );
  });

  const bad: [string, Record<string, unknown>, { rootfs: string; execRoot: string }, RegExp][] = [
    [
      'an id that could escape the exec root',
      { Id: '../../etc', Config: {} },
      { rootfs: '/r', execRoot: '/e' },
      /plugin\.Id must be 64 lowercase hex characters, got "\.\.\/\.\.\/etc"/,
    ],
    [
      'an upper-case id',
      { Id: 'B'.repeat(64), Config: {} },
      { rootfs: '/r', execRoot: '/e' },
      /64 lowercase hex/,
    ],
    [
      'a relative rootfs',
      { Id: ID, Config: {} },
      { rootfs: 'rootfs', execRoot: '/e' },
      /rootfs must be an absolute path, got "rootfs"/,
    ],
    [
      'a relative execRoot',
      { Id: ID, Config: {} },
      { rootfs: '/r', execRoot: 'run' },
      /execRoot must be an absolute path/,
    ],
    [
      'a device without path (moby panicked)',
      { Id: ID, Config: { Linux: { Devices: [{ Name: 'gpu', Path: null }] } } },
      { rootfs: '/r', execRoot: '/e' },
      /^device "gpu" has no path: set it with "berth plugin set b{64} gpu\.path=\/dev\/\.\.\."$/,
    ],
  ];
  for (const [what, raw, paths, message] of bad) {
    it(`rejects ${what}, creating nothing`, () => {
      assert.throws(
        () =>
          resolvePluginSpecInput(decodePlugin(raw), {
            ...paths,
            execRoot: paths.execRoot === '/e' ? `${dir}/never` : paths.execRoot,
          }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidParameterError);
          assert.match(err.message, message);
          return true;
        },
      );
      assert.throws(() => statSync(`${dir}/never`), { code: 'ENOENT' });
    });
  }

  it('buildPluginSpec() resolves then builds', () => {
    const spec = buildPluginSpec(
      decodePlugin({
        Id: ID,
        Config: { Entrypoint: ['/p'], Linux: { Devices: [{ Name: 'f', Path: '/dev/full' }] } },
      }),
      { rootfs: '/r', execRoot: dir },
    );
    assert.deepEqual(
      spec.linux?.devices?.map((d) => d.path),
      ['/dev/full'],
    );
    assert.deepEqual(spec.linux?.resources?.devices?.at(-1), {
      allow: true,
      type: 'c',
      major: 1,
      minor: 7,
      access: 'rwm',
    });
  });
});
