import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import type { Executor } from '../executor/index.ts';
import type { RuntimeSet } from '../runtimes/index.ts';
import { startReconcile } from './reconcile.ts';

const noRuntimes = { runtimes: new Map() } as unknown as RuntimeSet;

/** An executor whose list answers and deletes finish when the test says so. */
function leftoverExecutor(ids: string[]) {
  let answerList: () => void = () => undefined;
  const listed = new Promise<void>((r) => (answerList = r));
  const finish = new Map<string, () => void>();
  const executor = {
    running: () => new Map(),
    list: async () => {
      await listed;
      return ids.map((id) => ({ id }));
    },
    delete: (_h: unknown, id: string, o: { force?: boolean }) => {
      assert.equal(o.force, true);
      return new Promise<void>((r) => finish.set(id, r));
    },
  } as unknown as Executor;
  return { executor, answerList, finish: (id: string) => finish.get(id)?.() };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await setImmediate();
  return done;
};

describe('startReconcile', () => {
  it('lets a restart wait for its own leftover only, and reports once every delete is done', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-reconcile-'));
    try {
      mkdirSync(join(root, 'runtime-runc'));
      const x = leftoverExecutor(['a', 'b']);
      const r = startReconcile(root, noRuntimes, x.executor);
      const goneC = r.gone('c'); // no leftover: still waits for the list
      assert.equal(await settled(goneC), false);
      x.answerList();
      assert.equal(await settled(goneC), true);
      const goneA = r.gone('a');
      assert.equal(await settled(goneA), false);
      x.finish('a');
      assert.equal(await settled(goneA), true);
      assert.equal(await settled(r.done), false, 'b is still being deleted');
      x.finish('b');
      assert.deepEqual(await r.done, { removed: { runc: ['a', 'b'] }, failed: {} });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('does not hold a restart when a root cannot be listed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-reconcile-'));
    try {
      mkdirSync(join(root, 'runtime-runc'));
      const executor = {
        running: () => new Map(),
        list: async () => {
          throw new Error('runc: broken');
        },
      } as unknown as Executor;
      const r = startReconcile(root, noRuntimes, executor);
      await r.gone('a');
      assert.deepEqual(await r.done, { removed: {}, failed: { runc: 'runc: broken' } });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
