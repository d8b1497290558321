/**
 * Resource limits and reconfigure in place with real runc containers and the Node.js test plugin
 * (test/fixtures/plugins/behave.ts): a plugin that allocates past its memory limit is reported "killed: out of
 * memory" from its cgroup, one that forks past its pids limit sees the fork fail, limits reach the cgroup, and
 * set with restart restarts the plugin with the new settings or rolls them back.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { RuncExecutor } from '../../src/executor/index.ts';
import { boundingCapabilities, socketAddress } from '../../src/host/index.ts';
import { type PluginEvent, PluginManager } from '../../src/plugins/index.ts';
import { RuntimeManager } from '../../src/runtimes/index.ts';
import { until } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const FIXTURE = new URL('../fixtures/plugins/behave.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;
const MANIFEST = {
  Description: 'berth test plugin',
  Entrypoint: ['/usr/bin/node', '/plugin/plugin.js'],
  Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'behave.sock' },
  Env: ['MODE', 'IMPLEMENTS'].map((Name) => ({ Name, Settable: ['value'], Value: null })),
};

/** What Plugin.Activate answers over the plugin's socket. */
function activate(socketDir: string): Promise<string> {
  const address = socketAddress(socketDir, 'behave.sock');
  return new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: address.path, method: 'POST', path: '/Plugin.Activate' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  }).finally(() => address.close());
}

describe('plugin limits and reconfigure with runc', { skip }, () => {
  let dir: string;
  let behave: string;
  let m: PluginManager;
  const events: PluginEvent[] = [];
  const runcState = (id: string) =>
    JSON.parse(readFileSync(join(dir, 'exec/runtime-runc', id, 'state.json'), 'utf8')) as {
      init_process_pid: number;
      cgroup_paths: Record<string, string>;
    };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-limits-'));
    behave = await packageNodePlugin({ source: FIXTURE, manifest: MANIFEST, outDir: join(dir, 'ctx') });
    const runtimes = new RuntimeManager({
      host: {
        execRoot: join(dir, 'exec'),
        wrapperDir: join(dir, 'data', 'runtimes'),
        noPivotRoot: false,
        pathEnv: process.env.PATH ?? '',
      },
      probe: { commandTimeoutMs: 2000 },
    });
    await runtimes.reload({});
    m = new PluginManager({
      dataRoot: join(dir, 'data'),
      execRoot: join(dir, 'exec'),
      runtimes,
      executor: new RuncExecutor(),
      preflight: { boundingCapabilities: boundingCapabilities(), exists: existsSync },
      readyTimeoutMs: 5000,
      stopGraceMs: 1000,
      maxFailures: 2,
      backoffBaseMs: 20,
    });
    m.on('event', (e) => events.push(e));
    await m.init();
  });

  after(async () => {
    await m?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a plugin the kernel killed for memory as such, from its cgroup', async () => {
    const p = await m.create('t/hog', { dir: behave });
    await m.set('t/hog', ['MODE=hog']);
    await m.update('t/hog', { resources: { Memory: 96 * MiB, MemorySwap: 96 * MiB }, warnings: [] });
    await m.enable('t/hog');
    await until(() => events.some((e) => e.Actor.ID === p.Id && e.Action === 'crash'), 10_000, 'a crash');
    const crash = events.find((e) => e.Actor.ID === p.Id && e.Action === 'crash');
    assert.deepEqual(crash?.Actor.Attributes, {
      name: 't/hog:latest',
      exitCode: '137',
      reason: 'killed: out of memory',
    });
    assert.match(m.inspect('t/hog').Status.LastError, /^killed: out of memory \(exit code 137\)/);
    await m.disable('t/hog');
  });

  it('applies limits to the cgroup; a plugin forking past its pids limit sees the fork fail', async () => {
    const p = await m.create('t/fork', { dir: behave });
    await m.set('t/fork', ['MODE=fork']);
    await m.update('t/fork', {
      // Memory well above what ~40 pids of node children use: the pids limit, not the OOM killer, must stop them.
      resources: { PidsLimit: 40, NanoCpus: 5e8, Memory: 1024 * MiB },
      warnings: [],
    });
    assert.deepEqual(m.inspect('t/fork').Resources, { PidsLimit: 40, NanoCpus: 5e8, Memory: 1024 * MiB });
    await m.enable('t/fork');
    const cgroups = runcState(p.Id).cgroup_paths;
    const read = (controller: string, file: string) =>
      readFileSync(join(cgroups[controller] ?? '', file), 'utf8').trim();
    assert.equal(read('pids', 'pids.max'), '40');
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(1024 * MiB));
    assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
    // The kernel refused a fork in the plugin's cgroup (pids.events "max N"). Which call fails is a race: the
    // plugin's own spawn (it logs "fork failed: EAGAIN") or a child's thread creation at its start (that child
    // exits, its pids come back).
    const refusals = () => Number(/^max (\d+)$/m.exec(read('pids', 'pids.events'))?.[1] ?? 0);
    await until(
      () => /fork failed: EAGAIN/.test(readFileSync(m.logPath(p.Id), 'utf8')) || refusals() > 0,
      30_000,
      'a refused fork',
    );
    assert.ok(refusals() > 0, 'pids.events counts the refused fork');
    assert.equal(m.inspect('t/fork').Status.State, 'running');
    await m.disable('t/fork');
  });

  it('set with restart: refused in use without force, then restarts with the new env; a failed start rolls back', async () => {
    const p = await m.create('t/cfg', { dir: behave });
    await m.set('t/cfg', ['MODE=listen', 'IMPLEMENTS=VolumeDriver']);
    await m.enable('t/cfg');
    await assert.rejects(
      m.set('t/cfg', ['IMPLEMENTS=Other']),
      /cannot set on an active plugin, disable plugin before setting/,
    );
    await assert.rejects(
      m.update('t/cfg', { resources: { PidsLimit: 9 }, warnings: [] }),
      /cannot update an active plugin/,
    );
    m.acquire('t/cfg');
    await assert.rejects(
      m.set('t/cfg', ['IMPLEMENTS=Other'], { restart: true }),
      /is in use: restarting it interrupts/,
    );
    const pid = runcState(p.Id).init_process_pid;
    await m.set('t/cfg', ['IMPLEMENTS=Other'], { restart: true, force: true });
    assert.notEqual(runcState(p.Id).init_process_pid, pid);
    assert.deepEqual(JSON.parse(await activate(m.socketDir(p.Id))), { Implements: ['Other'] });
    m.release('t/cfg');

    const running = runcState(p.Id).init_process_pid;
    await assert.rejects(
      m.set('t/cfg', ['MODE=crash'], { restart: true }),
      /exited with code 3 before listening on behave.sock.*; the configuration was rolled back and the plugin runs with its old configuration again/s,
    );
    assert.equal(m.inspect('t/cfg').Status.State, 'running');
    assert.notEqual(runcState(p.Id).init_process_pid, running);
    assert.deepEqual(JSON.parse(await activate(m.socketDir(p.Id))), { Implements: ['Other'] });
    const saved = JSON.parse(readFileSync(join(dir, 'data/plugins', p.Id, 'state.json'), 'utf8'));
    assert.deepEqual(saved.plugin.Settings.Env, ['MODE=listen', 'IMPLEMENTS=Other']);
    await m.disable('t/cfg');
  });
});
