import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { type Harness, pluginHarness, until } from '../../../test/fixtures/plugin-harness.ts';

/** What each settled promise was: `ok` or the error's class and message. */
function outcomes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) =>
    r.status === 'fulfilled' ? 'ok' : `${(r.reason as Error).name}: ${(r.reason as Error).message}`,
  );
}

describe('PluginManager (fake executor, fake clock)', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  it('serialises concurrent enable/disable/set/rm in the order they were asked for', async () => {
    h = pluginHarness();
    const id = await h.install();
    const results = await Promise.allSettled([
      h.manager.enable('p'),
      h.manager.set('p', ['DEBUG=1']),
      h.manager.disable('p'),
      h.manager.set('p', []),
      h.manager.enable('p'),
      h.manager.remove('p', { force: true }),
      h.manager.enable('p'),
      h.manager.disable('p'),
    ]);
    assert.deepEqual(outcomes(results), [
      'ok',
      'ConflictError: cannot set on an active plugin, disable plugin before setting',
      'ok',
      'ok',
      'ok',
      'ok',
      'NotFoundError: plugin "p" not found',
      'NotFoundError: plugin "p" not found',
    ]);
    assert.deepEqual(h.executor.calls, [`start ${id}`, `stop ${id}`, `start ${id}`, `stop ${id}`]);
    assert.deepEqual(
      h.events.map((e) => e.Action),
      ['create', 'enable', 'disable', 'enable', 'remove'],
    );
    assert.equal(existsSync(h.manager.store.dir(id)), false);
    assert.equal(existsSync(h.manager.socketDir(id)), false);
  });

  it('a start that fails after the runtime started leaves nothing running, nothing enabled', async () => {
    h = pluginHarness();
    const id = await h.install();
    h.executor.behaviours.push('hang');
    await assert.rejects(
      h.manager.enable('p', { timeoutMs: 50 }),
      /plugin p:latest did not listen on p.sock within 50 ms; its container was removed/,
    );
    h.executor.behaviours.push({ exit: 7 });
    await assert.rejects(
      h.manager.enable('p'),
      /plugin p:latest exited with code 7 before listening on p.sock; last output:\nexiting with 7/,
    );
    assert.deepEqual(h.executor.calls, [`start ${id}`, `destroy ${id}`, `start ${id}`, `destroy ${id}`]);
    assert.equal(h.executor.running().size, 0);
    const view = h.manager.inspect('p');
    assert.equal(view.Enabled, false);
    assert.equal(view.Status.State, 'disabled');
    assert.equal(view.Status.LastExitCode, 7);
    assert.equal(existsSync(join(h.dir, 'x', 'plugin-bundles', id)), false, 'bundle removed');
    assert.equal(h.clock.pending, 0, 'a failed enable is not retried');
    // And it can be enabled once it works.
    await h.manager.enable('p');
    assert.equal(h.manager.inspect('p').Status.State, 'running');
    assert.equal(h.manager.inspect('p').Status.Pid, 4242);
  });

  it('tells its observers each command that ran (not refused ones) and each call through its clients', async () => {
    const done: string[] = [];
    const calls: string[] = [];
    h = pluginHarness({
      onCommandDone: (d) => done.push(`${d.command} ${d.plugin.Name} ${d.error ? 'error' : 'ok'}`),
      rpcObserver: { callDone: (plugin, method) => calls.push(`${plugin} ${method}`) },
    });
    await h.install();
    await h.manager.enable('p');
    await assert.rejects(h.manager.enable('p'), /plugin already enabled/); // refused: it never ran
    await h.manager.client('p', 'volumedriver').call('VolumeDriver.List');
    await h.manager.disable('p');
    h.executor.behaviours.push({ exit: 7 });
    await assert.rejects(h.manager.enable('p'), /exited with code 7/);
    assert.deepEqual(done, ['enable p:latest ok', 'disable p:latest ok', 'enable p:latest error']);
    assert.deepEqual(calls, ['p:latest VolumeDriver.List']);
  });

  it('refuses disable and remove of a plugin in use unless forced', async () => {
    h = pluginHarness();
    await h.install();
    await h.manager.enable('p');
    h.manager.acquire('p');
    await assert.rejects(h.manager.disable('p'), /^ConflictError: plugin p:latest is in use$/);
    await assert.rejects(h.manager.remove('p'), /^ConflictError: plugin p:latest is in use$/);
    assert.equal(h.manager.inspect('p').Status.RefCount, 1);
    await h.manager.disable('p', { force: true });
    await assert.rejects(h.manager.remove('p'), /in use/);
    h.manager.release('p');
    await h.manager.remove('p');
    assert.deepEqual(h.manager.list(), []);
  });

  it('init restores the plugins that were enabled; shutdown stops them and keeps them enabled', async () => {
    h = pluginHarness();
    const id = await h.install();
    await h.install('q');
    await h.manager.enable('p');
    await h.manager.shutdown();
    assert.equal(h.executor.running().size, 0);
    const again = pluginHarness({ dataRoot: join(h.dir, 'd') });
    const listed = () =>
      assert.deepEqual(again.manager.listJson(), Buffer.from(JSON.stringify(again.manager.list())));
    try {
      listed();
      const report = await again.manager.init();
      listed();
      assert.deepEqual(report, { broken: [], restored: ['p:latest'], failed: [] });
      assert.deepEqual(again.executor.calls, [`start ${id}`]);
      assert.deepEqual(
        again.manager.list({ enabled: true }).map((p) => p.Name),
        ['p:latest'],
      );
      assert.deepEqual(
        again.manager
          .list({ capability: ['volumedriver'] })
          .map((p) => p.Name)
          .sort(),
        ['p:latest', 'q:latest'],
      );
    } finally {
      await again.cleanup();
    }
  });

  it('lists what list() shows after every change: the cached listing is never stale', async () => {
    h = pluginHarness({ maxFailures: 2, backoffBaseMs: 100, backoffMaxMs: 100 });
    const listed = (what: string, filters = {}) =>
      assert.deepEqual(
        h.manager.listJson(filters),
        Buffer.from(JSON.stringify(h.manager.list(filters))),
        what,
      );
    listed('empty');
    const id = await h.install();
    listed('created');
    await h.install('q');
    listed('second created');
    await h.manager.enable('p');
    listed('enabled');
    listed('filtered', { enabled: false });
    listed('unfiltered again');
    await h.manager.set('q', []);
    listed('set');
    await h.manager.update('q', { health: { Retries: 7 }, warnings: [] });
    listed('health settings updated');
    await h.manager.setRuntime('q', 'crun');
    listed('runtime set');
    h.manager.acquire('p');
    listed('acquired');
    h.manager.release('p');
    listed('released');
    h.executor.crash(id, 3);
    await until(() => h.manager.inspect('p').Status.State === 'restarting', 'restart scheduled');
    listed('crashed');
    h.clock.advance(100);
    await until(() => h.manager.inspect('p').Status.State === 'running', 'restarted');
    listed('restarted');
    h.executor.crash(id, 4);
    await until(() => h.manager.inspect('p').Status.State === 'failed', 'failed');
    listed('failed');
    await h.manager.disable('p');
    listed('disabled');
    h.executor.behaviours.push({ exit: 7 });
    await assert.rejects(h.manager.enable('p'), /exited with code 7/);
    listed('enable failed');
    await h.manager.remove('q');
    listed('removed');
  });
});
