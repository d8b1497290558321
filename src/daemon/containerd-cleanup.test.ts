import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import pino from 'pino';
import type { ContainerdExecutor } from '../executor/index.ts';
import { ContainerdCleanup, RECHECK_AFTER_MS } from './containerd-cleanup.ts';

/** An executor double that records the calls; `hang` makes the leak sweep never answer. */
function fakeExecutor(o: { hang?: boolean } = {}) {
  const calls: string[] = [];
  const executor = {
    reconcile: async () => {
      calls.push('reconcile');
      return ['left'];
    },
    sweep: (roots: readonly string[]) => {
      calls.push(`sweep ${roots.join()}`);
      const orphan = { pid: 7, startTime: 1, stateDir: '/run/r/ns/o', id: 'o' };
      return o.hang
        ? new Promise(() => {})
        : Promise.resolve({
            tasks: ['t'],
            failed: [{ id: 'f', error: 'boom' }],
            shims: ['s'],
            orphans: [orphan],
          });
    },
  };
  return { calls, executor: executor as unknown as ContainerdExecutor };
}

function logger() {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l).msg) });
  return { lines, log };
}

describe('ContainerdCleanup', () => {
  it('after the restore: leftovers, then one sweep, each removal logged; again later and at stop', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { calls, executor } = fakeExecutor();
      const { lines, log } = logger();
      const cleanup = new ContainerdCleanup(executor, log);
      assert.deepEqual(await cleanup.afterRestore(['/run/r']), ['left']);
      assert.deepEqual(calls, ['reconcile', 'sweep /run/r']);
      assert.deepEqual(lines, [
        'containerd: removed task t, whose container record went while it was created',
        'containerd: cannot remove task f, which has no container record: boom',
        'containerd: killed the shim of s, which containerd no longer knows',
        'containerd: killed runc init 7 of container o, which no shim runs any more (state dir /run/r/ns/o)',
      ]);
      let at = 0;
      for (const ms of RECHECK_AFTER_MS) {
        mock.timers.tick(ms - at);
        at = ms;
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // the sweep's awaits
      }
      assert.equal(calls.filter((c) => c.startsWith('sweep')).length, 1 + RECHECK_AFTER_MS.length);
      await cleanup.close();
      assert.equal(calls.filter((c) => c.startsWith('sweep')).length, 2 + RECHECK_AFTER_MS.length);
    } finally {
      mock.timers.reset();
    }
  });

  it('does not sweep at stop before the reconcile ran, nor after, and does not wait for a containerd that hangs', async () => {
    const idle = fakeExecutor();
    const early = new ContainerdCleanup(idle.executor, logger().log);
    await early.close();
    assert.deepEqual(idle.calls, []);
    await early.afterRestore(['/run/r']); // a reconcile that was in flight at the stop
    assert.deepEqual(idle.calls, ['reconcile'], 'no sweep, no rechecks armed after the stop');

    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const hung = fakeExecutor({ hang: true });
      const cleanup = new ContainerdCleanup(hung.executor, logger().log);
      void cleanup.afterRestore([]);
      await new Promise((r) => setImmediate(r));
      let closed = false;
      const closing = cleanup.close().then(() => {
        closed = true;
      });
      await new Promise((r) => setImmediate(r));
      assert.equal(closed, false);
      mock.timers.tick(3000);
      await closing;
      assert.equal(closed, true);
    } finally {
      mock.timers.reset();
    }
  });
});
