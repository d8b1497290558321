import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { validateSpec } from '../index.ts';

const ENTRY = new URL('./entry.ts', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/research-vol/spec-input.json', import.meta.url).pathname;

function berth(args: string[], stdin?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    input: stdin ?? '',
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('berth plugin spec', () => {
  let dir = '';
  let request: { rootfs: string; execRoot: string; plugin: { Id: string; Config: Record<string, unknown> } };
  before(() => {
    dir = mkdtempSync(`${tmpdir()}/berth-cli-`);
    request = { ...JSON.parse(readFileSync(EXAMPLE, 'utf8')), execRoot: `${dir}/plugins` };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a valid spec for the example plugin and creates its socket directory', () => {
    const r = berth(['plugin', 'spec'], JSON.stringify(request));
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const spec = JSON.parse(r.stdout);
    assert.deepEqual(validateSpec(spec), []);
    assert.equal(spec.root.path, request.rootfs);
    assert.equal(spec.mounts.at(-1).source, `${dir}/plugins/${request.plugin.Id}`);
    assert.ok(statSync(`${dir}/plugins/${request.plugin.Id}`).isDirectory());
    assert.deepEqual(
      spec.linux.devices.map((d: { path: string }) => d.path),
      ['/dev/kmsg'],
    );
  });

  it("applies the plugin's Resources (as inspect shows them) as linux.resources", () => {
    const limited = {
      ...request,
      plugin: { ...request.plugin, resources: { memory: 64 << 20, PidsLimit: 50 } },
    };
    const r = berth(['plugin', 'spec', '--compact'], JSON.stringify(limited));
    assert.equal(r.code, 0, r.stderr);
    const spec = JSON.parse(r.stdout);
    assert.deepEqual(
      [spec.linux.resources.memory, spec.linux.resources.pids],
      [{ limit: 64 << 20, swap: 128 << 20 }, { limit: 50 }],
    );
  });

  it('reads a file argument and prints compact JSON with --compact', () => {
    writeFileSync(`${dir}/in.json`, JSON.stringify(request));
    const r = berth(['plugin', 'spec', '--compact', `${dir}/in.json`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trimEnd().split('\n').length, 1);
    assert.equal(JSON.parse(r.stdout).ociVersion, '1.0.2-dev');
  });

  const bad: [string, string, RegExp][] = [
    ['empty stdin', '', /^berth: stdin is empty: expected a JSON object\n$/],
    ['not JSON', '{nope', /^berth: stdin is not valid JSON: /],
    ['an array', '[]', /^berth: input must be a JSON object \{"rootfs"/],
    ['a missing plugin', '{"rootfs":"/r","execRoot":"/e"}', /^berth: input\.plugin is required/],
    [
      'a bad field',
      '{"rootfs":"/r","execRoot":"/e","plugin":{"Id":"x","Config":{"PidHost":"yes"}}}',
      /^berth: input\.plugin\.Config\.PidHost must be boolean, not "yes"\n$/,
    ],
    [
      'a relative rootfs',
      JSON.stringify({ rootfs: 'r', execRoot: '/e', plugin: { Id: 'c'.repeat(64), Config: {} } }),
      /^berth: rootfs must be an absolute path, got "r"\n$/,
    ],
  ];
  for (const [what, stdin, stderr] of bad) {
    it(`exits 1 with one line on stderr for ${what}`, () => {
      const r = berth(['plugin', 'spec'], stdin);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    });
  }

  it('names a missing device like Docker and exits 1', () => {
    const plugin = {
      ...request.plugin,
      Settings: { Args: [], Env: [], Mounts: [], Devices: [{ Name: 'd', Path: '/dev/nope' }] },
    };
    const r = berth(['plugin', 'spec'], JSON.stringify({ ...request, plugin }));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'berth: error gathering device information while adding custom device "/dev/nope": no such file or directory\n',
    );
  });

  it('reports an unreadable file', () => {
    const r = berth(['plugin', 'spec', `${dir}/missing.json`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^berth: cannot read .*missing\.json: ENOENT/);
  });

  it('prints usage and fails for an unknown command', () => {
    const r = berth(['plugin', 'nope']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command 'nope'/);
  });
});
