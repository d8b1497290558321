import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJsonFixture } from '../../../test/fixtures.ts';
import { decodeManifest, manifestProblems, validateManifest } from './manifest.ts';
import { computePrivileges, privilegesMatch } from './privileges.ts';

const example = () => readJsonFixture<Record<string, unknown>>('dockerd/example-plugin-config.json');

describe('manifest validation', () => {
  it('accepts the manifest dockerd was measured with', () => {
    assert.deepEqual(manifestProblems(decodeManifest(example())), []);
  });

  it('reports every problem of a bad manifest at once', () => {
    const bad = decodeManifest({
      Interface: { Types: ['docker.VolumeDriver/1.0', 'bogus', 'docker.teleport/1.0'], Socket: '/abs.sock' },
      Entrypoint: [],
      WorkDir: 'data',
      Network: { Type: 'overlay' },
      Env: [
        { Name: 'A', Settable: ['source'] },
        { Name: 'A', Value: '1' },
      ],
      Mounts: [{ Name: 'm', Destination: 'rel', Source: 'src', Settable: ['value'] }],
      Linux: { Capabilities: ['CAP_SYS_ADMIN', 'SYS_ADMIN'], Devices: [{ Name: 'm', Path: 'dev/fuse' }] },
    });
    const problems = manifestProblems(bad);
    const expect = [
      /Interface.Types\[0\] "docker.VolumeDriver\/1.0" must look like "docker.volumedriver\/1.0" \(lower case\)/,
      /Interface.Types\[1\] "bogus" must look like/,
      /Interface.Types\[2\] "docker.teleport\/1.0": unknown capability "teleport"/,
      /Interface.Socket "\/abs.sock" must be relative/,
      /Entrypoint must name the program to run/,
      /WorkDir "data" must be an absolute path/,
      /Network.Type "overlay" is not supported/,
      /Env\[0\]: Settable "source" is not a settable field of env \(allowed: value\)/,
      /Env\[1\]: name "A" is already used by Env\[0\]/,
      /Mounts\[0\]: Destination "rel" must be an absolute path/,
      /Mounts\[0\]: Source "src" must be an absolute host path/,
      /Mounts\[0\]: Settable "value" is not a settable field of mounts/,
      /Linux.Devices\[0\]: Path "dev\/fuse" must be an absolute host path/,
      /Linux.Devices\[0\]: name "m" is already used by Mounts\[0\]/,
      /Linux.Capabilities: "SYS_ADMIN" is not a Linux capability name/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} not in:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.throws(
      () => validateManifest(bad),
      /^InvalidParameterError: invalid plugin config.json:\n {2}Interface/,
    );
  });

  it('requires a socket and at least one type', () => {
    const problems = manifestProblems(decodeManifest({ Entrypoint: ['/p'] }));
    assert.deepEqual(problems, [
      'Interface.Types must list at least one type, e.g. "docker.volumedriver/1.0"',
      'Interface.Socket must name the socket file the plugin listens on, e.g. "plugin.sock"',
    ]);
  });

  it('names a mistyped field', () => {
    assert.throws(
      () => decodeManifest({ Interface: { Types: [123] } }),
      /Interface.Types\[0\] must be string, not 123/,
    );
  });
});

describe('computePrivileges()', () => {
  it("lists moby's privileges in moby's order", () => {
    const c = decodeManifest({
      ...example(),
      Network: { Type: 'host' },
      PidHost: true,
      IpcHost: true,
      Linux: { ...(example().Linux as object), AllowAllDevices: true },
    });
    assert.deepEqual(
      computePrivileges(c).map((p) => [p.Name, p.Value]),
      [
        ['network', ['host']],
        ['host ipc namespace', ['true']],
        ['host pid namespace', ['true']],
        ['mount', ['/srv/plugin-test/hoststate']],
        ['device', ['/dev/fuse']],
        ['allow-all-devices', ['true']],
        ['capabilities', ['CAP_SYS_ADMIN']],
      ],
    );
  });

  it('does not count network type none as a privilege', () => {
    assert.deepEqual(computePrivileges(decodeManifest({ Network: { Type: 'none' } })), []);
  });

  it('compares every entry, the first one included', () => {
    const required = computePrivileges(decodeManifest(example()));
    assert.ok(privilegesMatch(required, [...required].reverse()));
    const tampered = required.map((p, i) => (i === 0 ? { ...p, Value: ['/etc'] } : p));
    assert.equal(privilegesMatch(required, tampered), false);
  });
});
