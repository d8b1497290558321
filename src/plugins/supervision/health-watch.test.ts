import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { type Harness, pluginHarness, until } from '../../../test/fixtures/plugin-harness.ts';
import type { ProbeResult } from '../health/index.ts';
import { PluginManager } from './manager.ts';

const MS = 1e6;

/** A harness whose health probes answer with the exit codes the test queues (0 once the queue is empty). */
function probed(): Harness & { codes: number[]; probes: string[] } {
  const codes: number[] = [];
  const probes: string[] = [];
  const probe = async (path: string, timeoutMs: number): Promise<ProbeResult> => {
    probes.push(`${path.split('/').at(-1)} ${timeoutMs}`);
    const ExitCode = codes.shift() ?? 0;
    return { Start: 's', End: 'e', ExitCode, Output: ExitCode ? 'Health check exceeded timeout (5s)' : 'ok' };
  };
  return Object.assign(pluginHarness({ probe }), { codes, probes });
}

const healthEvents = (h: Harness) =>
  h.events
    .filter((e) => e.Action.startsWith('health_status'))
    .map((e) => `${e.Action} ${e.Actor.Attributes.name}`);

describe('health checks of supervised plugins (fake executor, fake clocks)', () => {
  let h: ReturnType<typeof probed>;
  afterEach(() => h.cleanup());

  it('probes a running plugin, restarts it with the crash backoff when unhealthy, and starts its health over', async () => {
    h = probed();
    const id = await h.install();
    await h.manager.enable('p');
    assert.deepEqual(h.manager.inspect('p').Status.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
    h.healthClock.advance(30_000);
    await until(() => h.manager.inspect('p').Status.Health?.Status === 'healthy', 'healthy');
    assert.deepEqual(h.probes, ['p.sock 5000'], "Docker's defaults: every 30 s, 5 s timeout");
    h.codes.push(-1, -1, -1);
    for (let i = 1; i <= 3; i++) {
      h.healthClock.advance(30_000);
      await until(() => h.probes.length === i + 1, `probe ${i + 1}`);
    }
    await until(() => h.manager.inspect('p').Status.State === 'restarting', 'restart scheduled');
    const status = h.manager.inspect('p').Status;
    assert.equal(status.Health, undefined, 'no health while it does not run');
    assert.match(
      status.LastError,
      /^unhealthy: 3 consecutive health probes failed \(last: Health check exceeded timeout \(5s\)\)$/,
    );
    assert.deepEqual(h.clock.scheduled, [100], 'the restart backoff of a crash');
    h.clock.advance(100);
    await until(() => h.manager.inspect('p').Status.State === 'running', 'running again');
    assert.equal(h.manager.inspect('p').Status.Restarts, 1);
    assert.deepEqual(h.manager.inspect('p').Status.Health?.Status, 'starting');
    assert.deepEqual(h.executor.calls, [`start ${id}`, `stop ${id}`, `start ${id}`]);
    h.healthClock.advance(30_000);
    await until(() => h.manager.inspect('p').Status.Health?.Status === 'healthy', 'healthy again');
    assert.deepEqual(healthEvents(h), [
      'health_status: healthy p:latest',
      'health_status: unhealthy p:latest',
      'health_status: healthy p:latest',
    ]);
    const actions = h.events.map((e) => e.Action).filter((a) => !a.startsWith('health') && a !== 'create');
    assert.deepEqual(actions, ['enable', 'restart'], 'an unhealthy restart is no crash');
  });

  it('applies new settings to a running plugin at once, and stops and starts probing with Disable', async () => {
    h = probed();
    await h.install();
    await h.manager.enable('p');
    await h.manager.updateHealth('p', { Interval: 200 * MS, Timeout: 50 * MS, Retries: 1 });
    assert.deepEqual(h.manager.inspect('p').Status.Healthcheck, {
      Interval: 200 * MS,
      Timeout: 50 * MS,
      StartPeriod: 0,
      Retries: 1,
      Disable: false,
    });
    h.healthClock.advance(200);
    await until(() => h.probes.length === 1, 'a probe on the new interval');
    assert.deepEqual(h.probes, ['p.sock 50']);
    await h.manager.updateHealth('p', { Disable: true });
    assert.equal(h.manager.inspect('p').Status.Health, undefined);
    h.healthClock.advance(60_000);
    assert.equal(h.probes.length, 1, 'no probes while off');
    await h.manager.updateHealth('p', { Disable: false });
    assert.equal(h.manager.inspect('p').Status.Health?.Status, 'starting');
    h.healthClock.advance(200);
    await until(() => h.probes.length === 2, 'probing again');
  });

  it('persists the settings with the plugin (a new manager reads them), and a disabled plugin has no Health', async () => {
    h = probed();
    const id = await h.install();
    await h.manager.updateHealth('p', { Interval: 10_000 * MS, Retries: 7 });
    assert.equal(h.manager.inspect('p').Status.Health, undefined);
    const state = JSON.parse(readFileSync(join(h.dir, 'd', 'plugins', id, 'state.json'), 'utf8'));
    assert.deepEqual(state.health, { Interval: 10_000 * MS, Retries: 7 });
    const execRoot = mkdtempSync('/tmp/bmx-');
    const again = new PluginManager({
      dataRoot: join(h.dir, 'd'),
      execRoot,
      runtimes: { lookup: () => ({}), runnable: () => ({ name: 'runc', cli: { binary: '/nonexistent' } }) },
      executor: h.executor,
      preflight: { boundingCapabilities: [], exists: () => true },
    });
    await again.init();
    assert.equal(again.inspect('p').Status.Healthcheck?.Retries, 7);
    await again.shutdown();
    rmSync(execRoot, { recursive: true, force: true });
  });

  it('answers 404 for an unknown plugin', async () => {
    h = probed();
    await assert.rejects(async () => h.manager.updateHealth('nope', { Retries: 1 }), {
      name: 'NotFoundError',
    });
  });
});
