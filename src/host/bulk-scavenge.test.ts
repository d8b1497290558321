import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { BulkScavenger, countBulkBytes, SCAVENGE_BYTES } from './bulk-scavenge.ts';
import type { GcFunction } from './v8-gc.ts';
import { v8Gc } from './v8-gc.ts';

describe('BulkScavenger', () => {
  it('scavenges once each time the bytes counted reach its threshold, not before', () => {
    const calls: unknown[] = [];
    const gc: GcFunction = (options) => calls.push(options);
    const scavenger = new BulkScavenger(1000, () => gc);
    scavenger.count(600);
    scavenger.count(399);
    assert.equal(calls.length, 0);
    scavenger.count(1);
    assert.deepEqual(calls, [{ type: 'minor' }]);
    scavenger.count(999);
    assert.equal(calls.length, 1);
    scavenger.count(64 * 1024); // one large chunk: one scavenge, the count starts again
    scavenger.count(999);
    assert.equal(calls.length, 2);
  });

  it('asks for the collector only when it scavenges, not while it counts', () => {
    let asked = 0;
    const scavenger = new BulkScavenger(10, () => {
      asked++;
      return () => undefined;
    });
    scavenger.count(9);
    assert.equal(asked, 0);
    scavenger.count(1);
    scavenger.count(10);
    assert.equal(asked, 2); // v8Gc() itself makes V8's function once
  });

  it('stops scavenging, without throwing, once the collector cannot be had', () => {
    let asked = 0;
    const scavenger = new BulkScavenger(10, () => {
      asked++;
      throw new ReferenceError('gc is not defined');
    });
    scavenger.count(10); // inside a stream callback, a throw would end the process
    scavenger.count(100);
    assert.equal(asked, 1);
  });
});

describe('v8Gc', () => {
  it("frees dead Buffers' memory outside the heap with a scavenge, without a gc global", async () => {
    const gc = v8Gc();
    assert.equal(v8Gc(), gc);
    gc({ type: 'minor' });
    await nextTurn();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 256; i++) Buffer.alloc(64 * 1024).fill(i); // 16 MiB, dead at once
    assert.ok(process.memoryUsage().arrayBuffers >= before + 15 * 1024 * 1024);
    gc({ type: 'minor' });
    // V8 frees the outside bytes on a helper thread after the scavenge: a few ms later, more under load
    const deadline = performance.now() + 2000;
    while (process.memoryUsage().arrayBuffers >= before + 4 * 1024 * 1024 && performance.now() < deadline)
      await sleep(5);
    assert.ok(process.memoryUsage().arrayBuffers < before + 4 * 1024 * 1024);
  });

  it('takes a gc the process was started with, and leaves it there', () => {
    const own = (globalThis as { gc?: unknown }).gc;
    if (typeof own === 'function') assert.equal(v8Gc(), own);
    else assert.equal('gc' in globalThis, false);
  });

  it('lets countBulkBytes run a real scavenge', () => {
    countBulkBytes(SCAVENGE_BYTES); // V8's collector, called: no throw
  });
});
