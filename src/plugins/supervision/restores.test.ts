import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { FakeClock } from './clock.ts';
import type { Entry } from './entry.ts';
import { boundedWait, PendingRestores } from './restores.ts';

const entry = (name: string) =>
  ({ state: { plugin: { Id: `${name}-id`, Name: `${name}:latest`, Enabled: true } } }) as unknown as Entry;

/** Restores that finish when the test says: `finish(name, ok)`. */
function controlledRestores() {
  const started: string[] = [];
  const finishers = new Map<string, (ok: boolean) => void>();
  const restoreOne = (e: Entry) =>
    new Promise<void>((resolve, reject) => {
      started.push(e.state.plugin.Name);
      finishers.set(e.state.plugin.Name, (ok) => (ok ? resolve() : reject(new Error('exit 1'))));
    });
  return { started, restoreOne, finish: (name: string, ok = true) => finishers.get(name)?.(ok) };
}

const turns = async () => {
  for (let i = 0; i < 10; i++) await setImmediate();
};

describe('PendingRestores', () => {
  it('starts the first group, then the rest once it has settled; every plugin is pending from the start', async () => {
    const clock = new FakeClock();
    const r = new PendingRestores(clock);
    const c = controlledRestores();
    const failed: string[] = [];
    const [authz, vol, log] = [entry('authz'), entry('vol'), entry('log')];
    const groups = r.schedule(
      [vol, authz, log],
      (p) => p.Name === 'authz:latest',
      c.restoreOne,
      (e, err) => failed.push(`${e.state.plugin.Name}: ${err.message}`),
    );
    await turns();
    assert.deepEqual(c.started, ['authz:latest']);
    assert.ok(r.any);
    const volWait = r.wait('vol-id', 1000, () => new Error('late'));
    assert.ok(volWait, 'vol is pending before its group starts');
    assert.equal(
      r.wait('nope-id', 1000, () => new Error('late')),
      undefined,
    );
    c.finish('authz:latest', false);
    assert.deepEqual(await groups.first, { restored: [], failed: ['authz:latest'] });
    await turns();
    assert.deepEqual(c.started, ['authz:latest', 'vol:latest', 'log:latest']);
    assert.equal(
      r.wait('authz-id', 1000, () => new Error('late')),
      undefined,
      'authz is no longer pending',
    );
    c.finish('vol:latest');
    await volWait;
    c.finish('log:latest');
    assert.deepEqual(await groups.all, { restored: ['vol:latest', 'log:latest'], failed: ['authz:latest'] });
    assert.deepEqual(failed, ['authz:latest: exit 1']);
    await turns();
    assert.equal(r.any, false);
    assert.equal(clock.pending, 0, 'settled waits leave no timer behind');
  });

  it('gives up waiting after the bound with the error of the caller, while the restore goes on', async () => {
    const clock = new FakeClock();
    const r = new PendingRestores(clock);
    const c = controlledRestores();
    const groups = r.schedule(
      [entry('vol')],
      () => false,
      c.restoreOne,
      () => undefined,
    );
    const wait = r.wait('vol-id', 300, () => new Error('starting: volume driver vol:latest not ready'));
    clock.advance(299);
    await turns();
    clock.advance(1);
    await assert.rejects(wait as Promise<void>, /starting: volume driver vol:latest not ready/);
    assert.ok(r.any, 'still pending');
    c.finish('vol:latest');
    assert.deepEqual(await groups.all, { restored: ['vol:latest'], failed: [] });
  });
});

describe('boundedWait', () => {
  it('resolves when the promise settles either way, and cancels its timer', async () => {
    const clock = new FakeClock();
    await boundedWait(Promise.reject(new Error('x')), 10, clock, () => new Error('late'));
    assert.equal(clock.pending, 0);
    assert.deepEqual(clock.scheduled, [10]);
  });
});
