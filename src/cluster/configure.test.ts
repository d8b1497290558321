import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { fixture } from '../../test/cluster-fixture.ts';
import { findExecutable } from '../host/index.ts';
import type { RuntimeSet } from '../runtimes/index.ts';
import { configureContainerd, configureCrio, containerdLayout } from './configure.ts';
import { addImport } from './containerd-config.ts';
import { exportRuntimes } from './export.ts';
import { criSyncPlan, syncCri } from './sync.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed TOML/YAML documents, checked field by field
type Table = Record<string, any>;
const toml = (text: string): Table => JSON.parse(JSON.stringify(parse(text)));
const fx = fixture();
after(() => fx.cleanup());
let set: RuntimeSet;
before(async () => {
  set = await fx.load({ gvisor: { path: 'fake-oci', runtimeArgs: ['--network=none'] } });
});

const MAIN = `# the node's config, hand-written
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "example.local/pause:1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
      runtime_type = "io.containerd.runc.v2"
`;

describe('addImport', () => {
  const cases: [string, string, string[]][] = [
    ['no imports line', 'version = 2\n[a]\nb = 1\n', ['/d.toml']],
    ['an existing one-line imports', 'version = 2\nimports = ["/x.toml"]\n[a]\n', ['/x.toml', '/d.toml']],
    [
      'a multi-line imports',
      'version = 2\nimports = [\n  "/x.toml", # x\n  "/y.toml",\n]\n[a]\n',
      ['/x.toml', '/y.toml', '/d.toml'],
    ],
    ['no version line', '[a]\nb = 1\n', ['/d.toml']],
  ];
  for (const [what, text, want] of cases) {
    it(`adds the drop-in to ${what}, keeping everything else`, () => {
      const edit = addImport(text, '/d.toml', 'config.toml');
      assert.ok(edit.changed);
      const before = toml(text);
      assert.deepEqual(toml(edit.text), { ...before, imports: want });
      assert.deepEqual(addImport(edit.text, '/d.toml', 'config.toml'), { text: edit.text, changed: false });
    });
  }
  it('keeps comments', () => {
    assert.match(
      addImport(MAIN, '/d.toml', 'c').text,
      /^# the node's config, hand-written\nversion = 2\nimports = \[ "\/d.toml" \]\n/,
    );
  });
  it('refuses a file that is not TOML, naming it', () => {
    assert.throws(
      () => addImport('version = = 2', '/d', '/etc/containerd/config.toml'),
      /\/etc\/containerd\/config.toml is not valid TOML/,
    );
  });
});

describe('configureContainerd', () => {
  it('writes a drop-in carrying the node CRI section, adds the import once, keeps a backup, is idempotent', () => {
    const main = join(fx.dir, 'config.toml');
    writeFileSync(main, MAIN, { mode: 0o600 });
    const layout = containerdLayout({ config: main });
    assert.equal(layout.dropin, join(fx.dir, 'conf.d', 'berth.toml'));
    const exported = exportRuntimes(set, { format: 'containerd' }).content;
    const first = configureContainerd(layout, exported);
    assert.deepEqual(
      [first.dropinChanged, first.configChanged, first.backup],
      [true, true, `${main}.berth-backup`],
    );
    assert.equal(readFileSync(`${main}.berth-backup`, 'utf8'), MAIN);
    assert.equal(statSync(main).mode & 0o777, 0o600);
    assert.deepEqual(toml(readFileSync(main, 'utf8')).imports, [layout.dropin]);
    const dropin = toml(readFileSync(layout.dropin, 'utf8'));
    const cri = dropin.plugins['io.containerd.grpc.v1.cri'];
    assert.equal(cri.sandbox_image, 'example.local/pause:1');
    assert.equal(cri.containerd.snapshotter, 'native');
    assert.deepEqual(Object.keys(cri.containerd.runtimes).sort(), ['gvisor', 'nvidia', 'runc']);
    assert.equal(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
    assert.equal(cri.containerd.runtimes.gvisor.options.SystemdCgroup, true, 'follows the node runc');
    const again = configureContainerd(layout, exported);
    assert.deepEqual([again.dropinChanged, again.configChanged, again.backup], [false, false, undefined]);
  });

  it('refuses a version 1 config with the command that fixes it', () => {
    const main = join(fx.dir, 'v1.toml');
    writeFileSync(main, '[plugins.cri]\n');
    assert.throws(
      () => containerdLayout({ config: main }),
      /config version 1; .*containerd config default >/,
    );
  });

  const containerd = findExecutable('containerd');
  it('gives a real containerd 1.6 the node settings plus berth handlers (containerd config dump)', (t) => {
    if (!containerd.found) {
      if (process.env.CI === 'true')
        assert.fail('containerd is not installed (scripts/setup.sh installs it)');
      t.skip('containerd is not installed');
      return;
    }
    const main = join(fx.dir, 'real.toml');
    writeFileSync(main, MAIN);
    const layout = containerdLayout({ config: main, dropin: join(fx.dir, 'real-dropin.toml') });
    configureContainerd(layout, exportRuntimes(set, { format: 'containerd' }).content);
    const dumped = toml(
      execFileSync(containerd.path, ['--config', main, 'config', 'dump'], { encoding: 'utf8' }),
    );
    const cri = dumped.plugins['io.containerd.grpc.v1.cri'];
    assert.equal(cri.sandbox_image, 'example.local/pause:1');
    assert.equal(cri.containerd.snapshotter, 'native');
    assert.ok(cri.containerd.runtimes.nvidia);
    assert.equal(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
    const gvisor = set.runtimes.get('gvisor');
    assert.equal(
      cri.containerd.runtimes.gvisor.options.BinaryName,
      gvisor?.kind === 'runc' ? gvisor.wrapper : '',
    );
  });
});

describe('configureCrio and syncCri', () => {
  it('writes <dir>/90-berth.conf once', () => {
    const dir = join(fx.dir, 'crio.conf.d');
    const content = exportRuntimes(set, { format: 'crio' }).content;
    assert.equal(configureCrio(dir, content).dropinChanged, true);
    assert.equal(configureCrio(dir, content).dropinChanged, false);
    assert.ok(existsSync(join(dir, '90-berth.conf')));
  });

  it('rewrites the drop-in when a reload changes a runtime, and leaves it alone otherwise', async () => {
    const file = join(fx.dir, 'sync', 'berth.toml');
    const plan = criSyncPlan({ file });
    const manager = fx.manager();
    const load = async (args: string[]) =>
      (await manager.reload({ runtimes: { gvisor: { path: 'fake-oci', runtimeArgs: args } } })).set;
    assert.equal(syncCri(plan, await load(['--a'])).changed, true);
    const mtime = statSync(file).mtimeMs;
    assert.equal(syncCri(plan, await load(['--a'])).changed, false);
    assert.equal(statSync(file).mtimeMs, mtime, 'an unchanged reload does not touch the file');
    assert.equal(syncCri(plan, await load(['--b'])).changed, true);
    assert.match(readFileSync(file, 'utf8'), /BinaryName = ".*gvisor\./);
  });

  it('refuses a format that does not fit', () => {
    assert.throws(
      () => criSyncPlan({ file: '/x', format: 'yaml' }),
      /invalid --sync-cri-format "yaml": use one of containerd, containerd-v3, crio/,
    );
  });
});
