import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidParameterError, UnavailableError } from '../errdefs/index.ts';
import { RuntimeManager } from './manager.ts';
import type { RuntimeProbe } from './probe.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-manager-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fakeRuntime(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Runtimes that answer --version and features like a runc CLI without running anything: probes stay fast and
// deterministic here; real runtimes are exercised in test/integration/runtimes.test.ts.
const okRuntime = fakeRuntime(
  'ok-runtime',
  'case "$1" in --version) echo "ok-runtime version 1.0";; features) echo "{}";; esac',
);
const hanging = fakeRuntime('hanging-runtime', 'exec sleep 60');
const badFeatures = fakeRuntime(
  'bad-features',
  'case "$1" in --version) echo v2;; features) echo "not json";; esac',
);

function manager(timeoutMs = 2000, onProbe?: (runtime: string, probe: RuntimeProbe) => void): RuntimeManager {
  return new RuntimeManager({
    ...(onProbe ? { onProbe } : {}),
    host: {
      execRoot: join(dir, 'exec'),
      wrapperDir: join(dir, 'wrappers'),
      noPivotRoot: false,
      pathEnv: process.env.PATH ?? '',
    },
    probe: { commandTimeoutMs: timeoutMs },
  });
}

describe('RuntimeManager', () => {
  it('loads stock and configured runtimes with per-runtime roots and health', async () => {
    const m = manager();
    const { diff, set } = await m.reload({
      runtimes: { fake: { path: okRuntime }, gone: { path: '/nonexistent/runtime' } },
    });
    assert.deepEqual(diff.added, ['runc', 'io.containerd.runc.v2', 'fake', 'gone']);
    const fake = set.runtimes.get('fake');
    assert.equal(fake?.kind, 'runc');
    assert.equal(fake?.probe.health, 'ok');
    assert.equal(fake?.probe.version, 'ok-runtime version 1.0');
    assert.deepEqual(fake?.probe.features, {});
    if (fake?.kind === 'runc')
      assert.deepEqual(fake.cli.globalArgs, ['--root', join(dir, 'exec', 'runtime-fake')]);
    const gone = set.runtimes.get('gone');
    assert.equal(gone?.probe.health, 'unavailable');
    assert.equal(gone?.probe.reason, '/nonexistent/runtime: no such file');
  });

  it('trusts only runc, bare or behind its wrapper script, to keep stopped containers and forward signals', async () => {
    const { set } = await manager().reload({
      runtimes: { fake: { path: okRuntime }, args: { path: 'runc', runtimeArgs: ['--debug'] } },
    });
    const flags = (name: string) => {
      const rt = set.runtimes.get(name);
      return rt?.kind === 'runc' ? [rt.cli.keep, rt.cli.forwardsSignals] : undefined;
    };
    assert.deepEqual(flags('fake'), [false, false]);
    assert.deepEqual(flags('runc'), [true, true]);
    assert.deepEqual(
      flags('args'),
      [true, true],
      'the wrapper execs runc: the process a stop signals is runc',
    );
  });

  it('reports a hanging runtime as degraded after its timeout instead of waiting', async () => {
    const m = manager(300);
    const started = performance.now();
    const { set } = await m.reload({ runtimes: { slow: { path: hanging } } });
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `load took ${ms} ms`);
    const slow = set.runtimes.get('slow')?.probe;
    assert.equal(slow?.health, 'degraded');
    assert.match(slow?.reason ?? '', /--version: no answer within 300 ms/);
  });

  it('marks unparsable features as degraded', async () => {
    const { set } = await manager().reload({ runtimes: { b: { path: badFeatures } } });
    assert.equal(set.runtimes.get('b')?.probe.health, 'degraded');
    assert.equal(set.runtimes.get('b')?.probe.reason, 'features output is not valid JSON');
  });

  it('keeps the old set when a reload is invalid, and reports the diff of a valid one', async () => {
    const m = manager();
    await m.reload({ runtimes: { a: { path: okRuntime }, b: { path: okRuntime } } });
    await assert.rejects(m.reload({ runtimes: { c: { args: [] } } }), InvalidParameterError);
    assert.deepEqual([...m.current().runtimes.keys()], ['runc', 'io.containerd.runc.v2', 'a', 'b']);
    const { diff } = await m.reload({
      runtimes: { b: { path: okRuntime, runtimeArgs: ['--debug'] }, c: { path: okRuntime } },
      defaultRuntime: 'c',
    });
    assert.deepEqual(diff, {
      added: ['c'],
      removed: ['a'],
      changed: ['b'],
      defaultRuntime: { from: 'runc', to: 'c' },
    });
  });

  it('serialises concurrent reloads: the last one queued wins', async () => {
    const m = manager();
    const results = await Promise.all(
      ['x', 'y', 'z'].map((name) =>
        m.reload({ runtimes: { [name]: { path: okRuntime } }, defaultRuntime: name }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.set.generation),
      [1, 2, 3],
    );
    assert.equal(m.current().defaultRuntime, 'z');
  });

  it('looks names up like the seed: default, configured, shim names, and refuses the rest listing what exists', async () => {
    const m = manager();
    await m.reload({ runtimes: { fake: { path: okRuntime } }, defaultRuntime: 'fake' });
    assert.equal(m.lookup(undefined).name, 'fake');
    assert.equal(m.lookup('').name, 'fake');
    assert.equal(m.lookup('io.containerd.runc.v2').name, 'io.containerd.runc.v2');
    assert.throws(
      () => m.lookup('nvidia'),
      /^InvalidParameterError: unknown or invalid runtime name: nvidia \(configured: runc, io.containerd.runc.v2, fake\)$/,
    );
    assert.throws(() => m.lookup('/usr/bin/evil'), /unknown or invalid runtime name: \/usr\/bin\/evil/);
    assert.throws(() => m.lookup('io.containerd.typo.v2'), /binary not installed "containerd-shim-typo-v2"/);
  });

  it('refuses to run shim and unavailable runtimes with 503-class errors', async () => {
    const shimDir = mkdtempSync(join(dir, 'shims-'));
    writeFileSync(join(shimDir, 'containerd-shim-kata-v2'), '#!/bin/sh\n');
    chmodSync(join(shimDir, 'containerd-shim-kata-v2'), 0o755);
    const m = new RuntimeManager({
      host: {
        execRoot: join(dir, 'exec'),
        wrapperDir: join(dir, 'wrappers'),
        noPivotRoot: false,
        pathEnv: shimDir,
      },
      probe: { commandTimeoutMs: 2000 },
    });
    await m.reload({
      runtimes: { gone: { path: '/nonexistent/x' }, kata: { runtimeType: 'io.containerd.kata.v2' } },
    });
    assert.throws(
      () => m.runnable('gone'),
      (e: unknown) => e instanceof UnavailableError && /runtime gone is unavailable/.test(e.message),
    );
    assert.throws(
      () => m.runnable('kata'),
      (e: unknown) => e instanceof UnavailableError && /containerd shim/.test(e.message),
    );
    assert.throws(() => m.runnable('io.containerd.kata.v2'), UnavailableError);
  });

  it('re-checks a runtime and publishes the new health', async () => {
    const path = fakeRuntime('flaky', 'exit 0');
    const m = manager();
    await m.reload({ runtimes: { flaky: { path } } });
    assert.equal(m.inspect('flaky').probe.health, 'degraded'); // features: empty output is not JSON
    rmSync(path);
    const [fresh] = await m.check('flaky');
    assert.equal(fresh?.probe.health, 'unavailable');
    assert.equal(m.inspect('flaky').probe.health, 'unavailable');
  });

  it('tells onProbe about every probe it runs, at reload and at check', async () => {
    const seen: string[] = [];
    const m = manager(2000, (name, probe) => seen.push(`${name}:${probe.health}:${probe.durationMs >= 0}`));
    await m.reload({ runtimes: { fine: { path: okRuntime } } });
    assert.ok(seen.includes('fine:ok:true'), seen.join(' '));
    const loaded = seen.length;
    await m.check('fine');
    assert.deepEqual(seen.slice(loaded), ['fine:ok:true']);
  });

  it('probes a binary once per reload whatever the number of runtimes on it, and reuses successes across reloads', async () => {
    const calls = join(dir, 'calls');
    const counted = fakeRuntime(
      'counted',
      `echo "$1" >> '${calls}'\ncase "$1" in --version) echo c1;; features) echo "{}";; esac`,
    );
    const m = manager();
    const runtimes = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`c${i}`, { path: counted, runtimeArgs: [`--n=${i}`] }]),
    );
    await m.reload({ runtimes });
    const count = () => readFileSync(calls, 'utf8').trim().split('\n').length;
    assert.equal(count(), 2, 'one --version and one features for five runtimes');
    const first = m.inspect('c0').probe.probedAt;
    await m.reload({ runtimes });
    assert.equal(count(), 2, 'nothing re-run for an unchanged binary');
    assert.equal(m.inspect('c0').probe.probedAt, first);
    // Replacing the binary (new inode and mtime) makes the next reload probe it again.
    rmSync(counted);
    fakeRuntime(
      'counted',
      `echo "$1" >> '${calls}'\ncase "$1" in --version) echo c2;; features) echo "{}";; esac`,
    );
    await m.reload({ runtimes });
    assert.equal(count(), 4);
    assert.equal(m.inspect('c3').probe.version, 'c2');
    await m.check('c1');
    assert.equal(count(), 6, 'check always re-probes');
  });
});
