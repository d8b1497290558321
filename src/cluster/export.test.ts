import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { fixture } from '../../test/cluster-fixture.ts';
import type { RuntimeSet } from '../runtimes/index.ts';
import { CRIO_RUNTIME_KEYS } from './crio.ts';
import { exportRuntimes, parseExportFormat } from './export.ts';

const fx = fixture();
after(() => fx.cleanup());

const RUNTIMES = {
  fast: { path: 'fake-oci' },
  gvisor: { path: 'fake-oci', runtimeArgs: ['--network=none', "it's"] },
  My_Runtime: { path: 'fake-oci' },
  'named.ok': { path: 'fake-oci', kubernetes: { handler: 'named' } },
  broken: { path: '/nonexistent/runtime' },
  'systemd-runc': {
    runtimeType: 'io.containerd.runc.v2',
    options: { BinaryName: 'fake-oci', SystemdCgroup: true },
  },
  kata: {
    runtimeType: 'io.containerd.fake.v2',
    options: { ConfigPath: '/etc/fake.toml' },
    kubernetes: {
      overhead: { podFixed: { memory: '120Mi', cpu: '250m' } },
      nodeSelector: { 'berth.io/runtime.kata': 'true' },
    },
  },
  missingshim: { runtimeType: 'io.containerd.absent.v2' },
};

let set: RuntimeSet;
before(async () => {
  set = await fx.load(RUNTIMES, 'gvisor');
});

// biome-ignore lint/suspicious/noExplicitAny: parsed TOML/YAML documents, checked field by field
type Table = Record<string, any>;
/** smol-toml builds null-prototype objects: plain JSON values compare with deepEqual. */
const parseToml = (text: string): Table => JSON.parse(JSON.stringify(parse(text)));
const cri = (text: string, plugin = 'io.containerd.grpc.v1.cri'): Table =>
  (parseToml(text) as Table).plugins[plugin].containerd;

describe('exportRuntimes', () => {
  it('renders containerd 1.x handlers, sorted, with the default, wrapper and state roots', () => {
    const out = exportRuntimes(set, { format: 'containerd' });
    const doc = parseToml(out.content) as Table;
    assert.equal(doc.version, 2);
    const section = cri(out.content);
    assert.equal(section.default_runtime_name, 'gvisor');
    assert.deepEqual(Object.keys(section.runtimes), [
      'fast',
      'gvisor',
      'kata',
      'named',
      'runc',
      'systemd-runc',
    ]);
    assert.deepEqual(section.runtimes.runc, { runtime_type: 'io.containerd.runc.v2' });
    const gvisor = set.runtimes.get('gvisor');
    assert.ok(gvisor?.kind === 'runc' && gvisor.wrapper);
    assert.deepEqual(section.runtimes.gvisor, {
      runtime_type: 'io.containerd.runc.v2',
      options: { BinaryName: gvisor.wrapper, Root: '/run/containerd/berth/gvisor' },
    });
    assert.equal(section.runtimes['systemd-runc'].options.SystemdCgroup, true);
    assert.deepEqual(section.runtimes.kata, {
      runtime_type: 'io.containerd.fake.v2',
      runtime_path: `${fx.bin}/containerd-shim-fake-v2`,
      options: { ConfigPath: '/etc/fake.toml' },
    });
    assert.deepEqual(
      out.handlers.map((h) => `${h.name}=${h.handler}`),
      ['fast=fast', 'gvisor=gvisor', 'kata=kata', 'named.ok=named', 'runc=runc', 'systemd-runc=systemd-runc'],
    );
  });

  it('leaves out unavailable runtimes and names that are not handlers, with reasons, as TOML comments', () => {
    const out = exportRuntimes(set, { format: 'containerd' });
    assert.deepEqual(
      out.leftOut.map((l) => l.name),
      ['My_Runtime', 'broken', 'missingshim'],
    );
    assert.match(out.leftOut[0]?.reason ?? '', /not a Kubernetes handler name.*"handler": "my-runtime"/);
    assert.match(out.leftOut[1]?.reason ?? '', /^unavailable: .*--include-unavailable/);
    assert.match(out.leftOut[2]?.reason ?? '', /containerd-shim-absent-v2/);
    for (const l of out.leftOut) assert.ok(out.content.includes(`# left out: ${l.name}: `));
  });

  it('keeps unavailable runtimes with --include-unavailable', () => {
    const out = exportRuntimes(set, { format: 'containerd', includeUnavailable: true });
    assert.ok('broken' in cri(out.content).runtimes);
    assert.ok('missingshim' in cri(out.content).runtimes);
    assert.deepEqual(
      out.leftOut.map((l) => l.name),
      ['My_Runtime'],
    );
  });

  it('renders containerd 2.x under io.containerd.cri.v1.runtime with version 3', () => {
    const out = exportRuntimes(set, { format: 'containerd-v3' });
    assert.equal((parseToml(out.content) as Table).version, 3);
    const section = cri(out.content, 'io.containerd.cri.v1.runtime');
    assert.equal(section.default_runtime_name, 'gvisor');
    assert.equal(section.runtimes.fast.runtime_type, 'io.containerd.runc.v2');
  });

  it('is deterministic: the same set renders the same bytes whatever the configuration order', async () => {
    const reversed = Object.fromEntries(Object.entries(RUNTIMES).reverse());
    const other = await fx.manager().reload({ runtimes: reversed, defaultRuntime: 'gvisor' });
    for (const format of ['containerd', 'containerd-v3', 'crio', 'runtimeclass', 'node-labels'] as const) {
      const a = exportRuntimes(set, { format }).content;
      const b = exportRuntimes(other.set, { format }).content;
      assert.equal(a.replaceAll(fx.dir, ''), b.replaceAll(fx.dir, ''), format);
    }
  });

  it('renders RuntimeClasses that parse back to the same handlers, with overhead and nodeSelector', () => {
    const out = exportRuntimes(set, { format: 'runtimeclass' });
    const docs = parseAllDocuments(out.content).map((d) => d.toJS() as Table);
    assert.deepEqual(
      docs.map((d) => d.handler),
      out.handlers.map((h) => h.handler),
    );
    for (const d of docs) {
      assert.equal(d.apiVersion, 'node.k8s.io/v1');
      assert.equal(d.kind, 'RuntimeClass');
      assert.equal(d.metadata.name, d.handler);
    }
    const kata = docs.find((d) => d.handler === 'kata');
    assert.deepEqual(kata?.overhead, { podFixed: { cpu: '250m', memory: '120Mi' } });
    assert.deepEqual(kata?.scheduling, { nodeSelector: { 'berth.io/runtime.kata': 'true' } });
    assert.match(out.content, /# left out: My_Runtime: /);
  });

  it('prints node labels for every handler, true or false by health', () => {
    const out = exportRuntimes(set, { format: 'node-labels' });
    assert.equal(
      out.content,
      [
        'berth.io/runtime.broken=false',
        'berth.io/runtime.fast=true',
        'berth.io/runtime.gvisor=true',
        'berth.io/runtime.kata=true',
        'berth.io/runtime.missingshim=false',
        'berth.io/runtime.named=true',
        'berth.io/runtime.runc=true',
        'berth.io/runtime.systemd-runc=true',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      out.leftOut.map((l) => l.name),
      ['My_Runtime'],
    );
  });

  it('renders a CRI-O drop-in with documented keys only (golden: crio.conf(5))', () => {
    const out = exportRuntimes(set, { format: 'crio', monitorPath: '/usr/libexec/crio/conmon' });
    const doc = parseToml(out.content) as Table;
    assert.equal(doc.crio.runtime.default_runtime, 'gvisor');
    const runtimes = doc.crio.runtime.runtimes as Record<string, Table>;
    for (const [handler, table] of Object.entries(runtimes)) {
      for (const key of Object.keys(table))
        assert.ok((CRIO_RUNTIME_KEYS as readonly string[]).includes(key), `${handler}.${key}`);
    }
    assert.deepEqual(runtimes.runc, { runtime_type: 'oci', monitor_path: '/usr/libexec/crio/conmon' });
    assert.deepEqual(runtimes.kata, {
      runtime_path: `${fx.bin}/containerd-shim-fake-v2`,
      runtime_type: 'vm',
      runtime_config_path: '/etc/fake.toml',
      monitor_path: '/usr/libexec/crio/conmon',
    });
    assert.equal(runtimes.fast?.runtime_type, 'oci');
    assert.equal(runtimes.fast?.runtime_root, '/run/crio/berth/fast');
    assert.equal(runtimes.fast?.runtime_path, `${fx.bin}/fake-oci`);
  });

  it('leaves gVisor out of containerd exports (runc shim cannot stop its pods), not out of CRI-O', async () => {
    const gv = await fx.manager().reload({ runtimes: { sandboxed: { path: 'fake-runsc' } } });
    const containerd = exportRuntimes(gv.set, { format: 'containerd' });
    assert.deepEqual(
      containerd.leftOut.map((l) => l.name),
      ['sandboxed'],
    );
    assert.match(containerd.leftOut[0]?.reason ?? '', /containerd-shim-runsc-v1/);
    assert.ok(exportRuntimes(gv.set, { format: 'crio' }).handlers.some((h) => h.handler === 'sandboxed'));
    assert.equal(exportRuntimes(gv.set, { format: 'node-labels' }).content.includes('sandboxed=false'), true);
  });

  it('refuses an unknown format naming the valid ones', () => {
    assert.throws(
      () => parseExportFormat('docker'),
      /invalid export format "docker": use one of containerd,/,
    );
  });
});
