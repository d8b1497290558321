/**
 * Live restore with the runc executor: berth-spawner outlives berthd (killed with -9, or stopped with
 * --live-restore) with the plugins' `runc run` processes and their output pipes, and the next berthd adopts them:
 * same pid, the output written meanwhile in the plugin's log, its exit still seen. Without the spawner (killed
 * too), the restore deletes the container and starts the plugin again.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pidsWith, processTable } from '../../bench/fixtures/processes.ts';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { BEHAVE_FIXTURE, BEHAVE_MANIFEST, runcContainers } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();

describe('live restore with the runc executor', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  const cli = (...args: string[]) => runBerth(d.host, args);
  const containers = () => runcContainers(d.execRoot).map((c) => `${c.id}:${c.pid}`);
  const spawnerPids = () => pidsWith(processTable(), 'berth-spawner', join(d.execRoot, 'spawner.sock'));
  const ticks = async () => (await cli('plugin', 'logs', 't/tick')).stdout.match(/tick \d+/g) ?? [];

  before(async () => {
    d = testDaemon('berth-live');
    ctx = await packageNodePlugin({
      source: BEHAVE_FIXTURE,
      manifest: BEHAVE_MANIFEST,
      outDir: join(d.dir, 'ctx'),
    });
    await d.start(['--no-runtime-smoke-test']);
    assert.equal((await cli('plugin', 'create', 't/tick', ctx)).code, 0);
    mkdirSync(join(d.dir, 'state'));
    const set = await cli('plugin', 'set', 't/tick', 'TICK_MS=50', `state.source=${join(d.dir, 'state')}`);
    assert.equal(set.code, 0, set.stderr);
    const enable = await cli('plugin', 'enable', 't/tick');
    assert.equal(enable.code, 0, enable.stderr + d.log());
  });
  after(() => d.cleanup());

  it('after kill -9 of berthd: the same container, its output meanwhile in its log, its exit still seen', async () => {
    const before = containers();
    assert.equal(before.length, 1);
    await d.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 400)); // the plugin goes on ticking, into berth-spawner
    await d.start(['--no-runtime-smoke-test']);
    assert.deepEqual(containers(), before, 'adopted: same container, same pid');
    assert.match(d.log(), /t\/tick:latest: adopted its running container/);
    // The ticks written while no berthd was there (~20) are in the log: at most what was in flight in the killed
    // berthd (read from berth-spawner, not yet in the log) is lost.
    await new Promise((r) => setTimeout(r, 200));
    const seen = (await ticks()).map((t) => Number(t.split(' ')[1]));
    const last = seen.at(-1) ?? 0;
    assert.ok(last >= 15, seen.join());
    assert.ok(
      seen.every((n, i) => i === 0 || n > (seen[i - 1] ?? 0)),
      `each once, in order: ${seen.join()}`,
    );
    assert.ok(last - seen.length <= 2, `at most 2 of ${last} lost: ${seen.join()}`);
    // berthd supervises it again: a kill of its init is an exit it sees, and the plugin is started again.
    const pid = Number(before[0]?.split(':')[1]);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => containers().length === 1 && containers()[0] !== before[0], 10_000, 'a restart');
    // The new container is there before its socket answers: 'starting' until then.
    const state = async () =>
      JSON.parse((await cli('plugin', 'ls', '--format', 'json')).stdout)[0].Status.State;
    for (let i = 0; i < 100 && (await state()) === 'starting'; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await state(), 'running');
  });

  it('--live-restore: a stop leaves the plugin running and the next berthd adopts it; without, it stops', async () => {
    await d.stop('SIGTERM');
    assert.deepEqual(containers(), [], 'stopped without --live-restore');
    await d.start(['--no-runtime-smoke-test', '--live-restore']);
    const running = containers();
    assert.equal(running.length, 1);
    assert.equal(await d.stop('SIGTERM'), 0);
    assert.deepEqual(containers(), running, 'still running while berthd is stopped');
    assert.equal(spawnerPids().length, 1, 'berth-spawner keeps it');
    const [id] = running[0]?.split(':') ?? [];
    assert.ok(existsSync(join(d.execRoot, 'plugin-bundles', id ?? '', 'config.json')), 'its bundle is kept');
    await d.start(['--no-runtime-smoke-test', '--live-restore']);
    assert.deepEqual(containers(), running);
    assert.equal((await cli('plugin', 'disable', 't/tick')).code, 0);
    assert.deepEqual(containers(), []);
    assert.equal((await cli('plugin', 'enable', 't/tick')).code, 0);
  });

  it('with berth-spawner killed as well, the restore deletes the container and starts the plugin again', async () => {
    const before = containers();
    assert.equal(before.length, 1);
    await d.stop('SIGKILL');
    for (const pid of spawnerPids()) process.kill(pid, 'SIGKILL');
    await d.start(['--no-runtime-smoke-test']);
    const after = containers();
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before[0], 'a new container');
    assert.match(d.log(), /removed containers left by a previous berthd/);
  });
});
