import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { boundedWait, FakeClock } from '../plugins/index.ts';
import { Startup } from './startup.ts';

/** Plugins whose restores finish when the test says so (the manager's whenRestored, over `boundedWait`). */
function restoring(clock: FakeClock, names: string[]) {
  const pending = new Map<string, { done: Promise<void>; finish: () => void }>();
  for (const n of names) {
    let finish: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      finish = () => {
        pending.delete(n);
        r();
      };
    });
    pending.set(n, { done, finish });
  }
  return {
    plugins: {
      whenRestored: (ref: string, ms: number, late: (name: string) => Error) => {
        const p = pending.get(ref);
        return p && boundedWait(p.done, ms, clock, () => late(ref));
      },
    },
    finish: (n: string) => pending.get(n)?.finish(),
  };
}

const turns = async () => {
  for (let i = 0; i < 10; i++) await setImmediate();
};

describe('Startup (the authorization gate at start)', () => {
  it('holds until every authorization plugin is restored', async () => {
    const clock = new FakeClock();
    const r = restoring(clock, ['a', 'b']);
    const startup = new Startup({
      authzNames: () => ['a', 'b'],
      plugins: r.plugins,
      holdTimeoutMs: 1000,
      clock,
    });
    await turns();
    let served = false;
    const held = startup.untilAuthzReady().then(() => (served = true));
    r.finish('a');
    await turns();
    assert.equal(served, false, 'b is still starting');
    r.finish('b');
    await held;
    assert.equal(clock.pending, 0);
  });

  it('answers 503 naming the first plugin not ready, one hold for the whole chain', async () => {
    const clock = new FakeClock();
    const r = restoring(clock, ['a', 'b']);
    const startup = new Startup({
      authzNames: () => ['a', 'b'],
      plugins: r.plugins,
      holdTimeoutMs: 1000,
      clock,
    });
    await turns();
    const held = startup.untilAuthzReady();
    clock.advance(600);
    r.finish('a');
    await turns();
    clock.advance(399);
    await turns();
    clock.advance(1); // 1000 ms after the request, not 1000 ms after a was ready
    await assert.rejects(held, (err: Error) => {
      assert.equal(err.name, 'UnavailableError');
      assert.equal(err.message, 'starting: authorization plugin b not ready');
      return true;
    });
  });

  it('lets requests through at once when no authorization plugin is pending', async () => {
    const clock = new FakeClock();
    const startup = new Startup({
      authzNames: () => ['not/installed'],
      plugins: restoring(clock, []).plugins,
      holdTimeoutMs: 1000,
      clock,
    });
    await startup.untilAuthzReady();
    assert.equal(startup.authzReady, false);
    startup.markAuthzReady();
    assert.equal(startup.authzReady, true);
  });
});
