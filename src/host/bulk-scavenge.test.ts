import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
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

  it('gets the collector only when it first scavenges', () => {
    let made = 0;
    const scavenger = new BulkScavenger(10, () => {
      made++;
      return () => undefined;
    });
    scavenger.count(9);
    assert.equal(made, 0);
    scavenger.count(1);
    scavenger.count(10);
    assert.equal(made, 2); // v8Gc() itself makes the function once
  });
});

describe('v8Gc', () => {
  it("frees dead Buffers' memory outside the heap with a scavenge, without a gc global", async () => {
    const gc = v8Gc();
    assert.equal(v8Gc(), gc);
    assert.equal('gc' in globalThis, false);
    gc({ type: 'minor' });
    await nextTurn();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 256; i++) Buffer.alloc(64 * 1024).fill(i); // 16 MiB, dead at once
    assert.ok(process.memoryUsage().arrayBuffers >= before + 15 * 1024 * 1024);
    gc({ type: 'minor' });
    await nextTurn();
    assert.ok(process.memoryUsage().arrayBuffers < before + 4 * 1024 * 1024);
  });

  it('is what countBulkBytes scavenges with', () => {
    countBulkBytes(SCAVENGE_BYTES); // a real minor collection: no throw
    assert.equal('gc' in globalThis, false);
  });
});
