import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import {
  compact,
  compactingGc,
  giveBackMemoryWhenIdle,
  type IdleHeapState,
  type IdleReport,
  idleAction,
  idleStartState,
} from './idle-heap.ts';

const MiB = 1024 * 1024;

describe('idleAction', () => {
  it('acts at the first idle interval after work, once', () => {
    const s: IdleHeapState = { worked: false, compactedBytes: 0 };
    assert.equal(idleAction(s, 0, 40 * MiB), undefined, 'idle without work before');
    assert.equal(idleAction(s, 0.5, 40 * MiB), undefined, 'busy');
    assert.equal(idleAction(s, 0.9, 40 * MiB), undefined, 'still busy');
    assert.deepEqual(idleAction(s, 0.001, 40 * MiB), { compact: true }, 'idle after work');
    assert.equal(idleAction(s, 0, 40 * MiB), undefined, 'idle again: already done');
  });

  it('starts as after work, with the heap the start left as the last compaction', () => {
    const s = idleStartState(30 * MiB);
    assert.deepEqual(idleAction(s, 0, 33 * MiB), { compact: false }, 'grown by 3 MiB since the start');
    idleAction(s, 0.2, 34 * MiB);
    assert.deepEqual(idleAction(s, 0, 34 * MiB), { compact: true });
  });

  it('gives back without a compaction when the heap grew by less than 4 MiB since the last one', () => {
    const s: IdleHeapState = { worked: false, compactedBytes: 20 * MiB };
    idleAction(s, 0.2, 23 * MiB);
    assert.deepEqual(idleAction(s, 0, 23 * MiB), { compact: false });
    assert.equal(s.worked, false, 'the work is forgotten: the next burst is judged on its own');
    idleAction(s, 0.2, 25 * MiB);
    assert.deepEqual(idleAction(s, 0, 25 * MiB), { compact: true });
  });
});

describe('giveBackMemoryWhenIdle', () => {
  it('gives back what the start freed at once, and again at the first idle interval', async () => {
    const reports: IdleReport[] = [];
    let trims = 0;
    const stop = giveBackMemoryWhenIdle(
      (r) => reports.push(r),
      () => ++trims > 0,
    );
    try {
      await setTimeout(2300);
    } finally {
      stop();
    }
    assert.equal(trims, 2, 'right after the start, then at the first sample: the start counts as work');
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.trimmed, true);
  });

  it('stopped at once, gives back nothing', async () => {
    let trims = 0;
    const stop = giveBackMemoryWhenIdle(undefined, () => ++trims > 0);
    stop();
    await setTimeout(20);
    assert.equal(trims, 0);
  });
});

describe('compact', () => {
  /** Collections against a list of [committed, used] MiB, one entry per state (before, after each collection). */
  const run = (sizes: [number, number][]) => {
    let calls = 0;
    const size = () => {
      const [committed, used] = sizes[calls] as [number, number];
      return { committed: committed * MiB, used: used * MiB };
    };
    const after = compact(() => calls++, size);
    return { calls, after: after / MiB };
  };

  it('collects once when that packs the heap', () => {
    assert.deepEqual(
      run([
        [28, 26],
        [17, 14],
      ]),
      { calls: 1, after: 17 },
    );
  });

  it('collects again while the heap is not packed and a collection gave back 1 MiB or more, at most thrice', () => {
    assert.deepEqual(
      run([
        [40, 39],
        [30, 14],
        [29.5, 14],
      ]),
      { calls: 2, after: 29.5 },
    );
    assert.deepEqual(
      run([
        [50, 49],
        [40, 14],
        [30, 14],
        [24, 14],
        [20, 14],
      ]),
      { calls: 3, after: 24 },
    );
  });

  it("packs V8's old space, and leaves the main context without a gc global", async () => {
    const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    const free = () => (oldSpace()?.space_size ?? 0) - (oldSpace()?.space_used_size ?? 0);
    const gc = compactingGc();
    // ~24 MiB of old space, then every other object kept: pages half full, which a plain collection leaves as
    // they are (it moves objects only off pages more than 70 % free).
    let all: object[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `s${i}` }));
    gc();
    const kept = all.filter((_, i) => i % 2 === 0);
    all = undefined;
    const ref = new WeakRef({ garbage: true });
    await new Promise((r) => setImmediate(r)); // a WeakRef keeps its target until the job that made it ends
    const before = free();
    compact(gc, () => {
      const h = getHeapStatistics();
      return { committed: h.total_heap_size, used: h.used_heap_size };
    });
    assert.equal(ref.deref(), undefined);
    assert.ok(free() < 3 * MiB, `old space free ${before / MiB} → ${free() / MiB} MiB`);
    assert.equal(kept.length, 150_000);
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  });
});
