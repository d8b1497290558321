import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compactHeap } from './compact-heap.ts';

test('compactHeap frees garbage and leaves gc unexposed to later contexts', () => {
  let garbage: unknown[] | undefined = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` }));
  const before = getHeapStatistics().used_heap_size;
  garbage = undefined;
  compactHeap();
  assert.equal(garbage, undefined);
  assert.ok(getHeapStatistics().used_heap_size < before);
  assert.equal(runInNewContext('typeof gc'), 'undefined');
});
