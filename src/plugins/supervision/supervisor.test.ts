import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type Harness, pluginHarness, until } from '../../../test/fixtures/plugin-harness.ts';
import { FakeClock } from './clock.ts';
import { backoffDelay, decideRestart, type RestartPolicy } from './restart-policy.ts';
import { commandRefusal, nextRunState, RUN_TRANSITIONS } from './transitions.ts';

const POLICY: RestartPolicy = {
  maxFailures: 5,
  failureWindowMs: 60_000,
  backoffBaseMs: 100,
  backoffMaxMs: 1000,
};

describe('restart policy', () => {
  it('backs off exponentially up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(POLICY, n)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('gives up after maxFailures within the window and forgets failures older than it', () => {
    let failures: readonly number[] = [];
    const kinds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = decideRestart(POLICY, failures, 1000 + i);
      failures = d.failures;
      kinds.push(d.kind === 'restart' ? `restart ${d.delayMs}` : d.kind);
    }
    assert.deepEqual(kinds, ['restart 100', 'restart 200', 'restart 400', 'restart 800', 'give-up']);
    const later = decideRestart(POLICY, failures.slice(0, 4), 1000 + 60_000 + 10);
    assert.deepEqual(later, { kind: 'restart', delayMs: 100, failures: [1000 + 60_010] });
  });
});

describe('transition tables', () => {
  const facts = { name: 'p:latest', inUse: false };
  it('refuses commands with Docker wording, in Docker order', () => {
    assert.equal(commandRefusal('enable', { ...facts, enabled: false }), undefined);
    assert.equal(
      commandRefusal('enable', { ...facts, enabled: true }),
      'plugin already enabled: plugin p:latest is enabled',
    );
    assert.equal(
      commandRefusal('disable', { ...facts, enabled: false, inUse: true }),
      'plugin is already disabled: plugin p:latest found but disabled',
    );
    assert.equal(
      commandRefusal('disable', { ...facts, enabled: true, inUse: true }),
      'plugin p:latest is in use',
    );
    assert.equal(commandRefusal('disable', { ...facts, enabled: true, inUse: true, force: true }), undefined);
    assert.equal(
      commandRefusal('remove', { ...facts, enabled: true, inUse: true }),
      'plugin p:latest is in use',
    );
    assert.equal(commandRefusal('remove', { ...facts, enabled: true }), 'plugin p:latest is enabled');
    assert.equal(commandRefusal('remove', { ...facts, enabled: true, inUse: true, force: true }), undefined);
    assert.match(commandRefusal('set', { ...facts, enabled: true }) ?? '', /cannot set on an active plugin/);
    assert.match(
      commandRefusal('upgrade', { ...facts, enabled: true }) ?? '',
      /must be disabled before upgrading/,
    );
    assert.match(
      commandRefusal('set-runtime', { ...facts, enabled: true }) ?? '',
      /cannot change the runtime/,
    );
  });

  it('allows only the run-state changes in the table', () => {
    assert.equal(nextRunState('disabled', 'start'), 'starting');
    assert.equal(nextRunState('starting', 'ready'), 'running');
    assert.equal(nextRunState('running', 'backoff'), 'restarting');
    assert.throws(
      () => nextRunState('stopping', 'ready'),
      /BUG: plugin run state stopping does not allow "ready"/,
    );
    for (const state of Object.keys(RUN_TRANSITIONS) as (keyof typeof RUN_TRANSITIONS)[])
      assert.equal(nextRunState(state, 'stopped'), 'disabled', `${state} can always end stopped`);
  });
});

describe('FakeClock', () => {
  it('runs due callbacks in order and not the cancelled ones', () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.schedule(20, () => ran.push('b'));
    clock.schedule(10, () => ran.push('a'));
    const cancel = clock.schedule(15, () => ran.push('x'));
    cancel();
    clock.advance(19);
    assert.deepEqual(ran, ['a']);
    clock.advance(1);
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal(clock.now(), 20);
  });
});

describe('Supervisor (fake executor, fake clock)', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  it('restarts a crashing plugin with backoff, then marks it failed after maxFailures in the window', async () => {
    h = pluginHarness({ maxFailures: 4, backoffBaseMs: 100, backoffMaxMs: 300 });
    const id = await h.install();
    await h.manager.enable('p');
    for (const [i, delay] of [100, 200, 300].entries()) {
      h.executor.crash(id, 3);
      await until(() => h.manager.inspect('p').Status.State === 'restarting', `restart ${i} scheduled`);
      assert.equal(h.clock.scheduled.at(-1), delay);
      h.clock.advance(delay);
      await until(() => h.manager.inspect('p').Status.State === 'running', `restart ${i} done`);
      assert.equal(h.manager.inspect('p').Status.Restarts, i + 1);
    }
    h.executor.crash(id, 3);
    await until(() => h.manager.inspect('p').Status.State === 'failed', 'failed');
    const status = h.manager.inspect('p').Status;
    assert.match(status.LastError, /exited unexpectedly with code 3; 4 failures within 60 s: not restarting/);
    assert.equal(status.LastExitCode, 3);
    assert.equal(h.clock.pending, 0, 'no restart after failed');
    const actions = h.events.map((e) => e.Action).filter((a) => a !== 'create');
    const loop = ['crash', 'restart', 'crash', 'restart', 'crash', 'restart'];
    assert.deepEqual(actions, ['enable', ...loop, 'crash', 'failed']);
    assert.equal(h.manager.inspect('p').Enabled, true, 'failed keeps the desired state');
  });

  it('restarts again after a restart whose start failed, with the next backoff', async () => {
    h = pluginHarness();
    const id = await h.install();
    await h.manager.enable('p');
    h.executor.behaviours.push({ exit: 1 }, 'listen');
    h.executor.crash(id, 2);
    await until(() => h.clock.pending === 1, 'first restart scheduled');
    h.clock.advance(100);
    await until(() => h.clock.pending === 1 && h.clock.scheduled.length === 2, 'second restart scheduled');
    assert.deepEqual(h.clock.scheduled, [100, 200]);
    const failed = h.manager.inspect('p').Status;
    assert.equal(failed.State, 'restarting');
    assert.match(
      failed.LastError,
      /^restart failed: plugin p:latest exited with code 1 before listening on p.sock/,
    );
    h.clock.advance(200);
    await until(() => h.manager.inspect('p').Status.State === 'running', 'running again');
    assert.equal(h.manager.inspect('p').Status.Restarts, 2);
    assert.equal(h.executor.running().size, 1);
    assert.deepEqual(
      h.executor.calls.filter((c) => !c.startsWith('start')),
      [`destroy ${id}`],
      'the failed start was destroyed',
    );
  });

  it('cancels a pending restart at disable and restarts nothing afterwards', async () => {
    h = pluginHarness();
    const id = await h.install();
    await h.manager.enable('p');
    h.executor.crash(id, 9);
    await until(() => h.clock.pending === 1, 'restart scheduled');
    await h.manager.disable('p');
    assert.equal(h.clock.pending, 0);
    h.clock.advance(10_000);
    assert.equal(h.manager.inspect('p').Status.State, 'disabled');
    assert.equal(h.executor.running().size, 0);
  });
});
