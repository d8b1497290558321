/**
 * PluginManager.restore over the FakeExecutor: the first group starts before the others, every enabled plugin is
 * pending (whenRestored) until its own start is over, and a command that had the lock first has the last word.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { type Harness, pluginHarness } from '../../../test/fixtures/plugin-harness.ts';

describe('PluginManager.restore (boot order)', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.cleanup();
  });

  /** Plugins a, b, c installed and enabled, then a new manager on the same data root, loaded only. */
  async function restarted(): Promise<{ again: Harness; ids: Record<string, string> }> {
    const h = pluginHarness();
    harnesses.push(h);
    const ids: Record<string, string> = {};
    for (const n of ['a', 'b', 'c']) {
      ids[n] = await h.install(n);
      await h.manager.enable(n);
    }
    await h.manager.shutdown();
    const again = pluginHarness({ dataRoot: join(h.dir, 'd') });
    harnesses.push(again);
    again.manager.load();
    return { again, ids };
  }

  it('starts the first group, then the others; each is pending until its own start is over', async () => {
    const { again, ids } = await restarted();
    const m = again.manager;
    const late = (name: string) => new Error(`${name} late`);
    const groups = m.restore((p) => p.Name === 'b:latest');
    const pending = m.whenRestored('c', 5000, late);
    assert.ok(pending, 'c is pending before its group starts');
    assert.equal(m.whenRestored('nope', 5000, late), undefined);
    assert.deepEqual(await groups.first, { restored: ['b:latest'], failed: [] });
    assert.equal(again.executor.calls[0], `start ${ids.b}`);
    await pending;
    assert.deepEqual((await groups.all).restored.sort(), ['a:latest', 'b:latest', 'c:latest']);
    assert.equal(m.whenRestored('a', 5000, late), undefined, 'nothing is pending once the restore is over');
    assert.equal(m.inspect('c').Status.State, 'running');
  });

  it('leaves a plugin disabled when a disable had its lock before its restore', async () => {
    const { again, ids } = await restarted();
    const m = again.manager;
    const disabled = m.disable('c');
    const groups = m.restore((p) => p.Name === 'a:latest');
    await disabled;
    await groups.all;
    assert.equal(m.inspect('c').Enabled, false);
    assert.equal(m.inspect('c').Status.State, 'disabled');
    assert.ok(!again.executor.calls.includes(`start ${ids.c}`), again.executor.calls.join());
  });
});
