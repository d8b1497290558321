import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_BUFFER_BYTES, deliveryOptions, parseSize } from './options.ts';

describe('log delivery options', () => {
  it('reads sizes as go-units RAMInBytes', () => {
    for (const [text, bytes] of [
      ['512', 512],
      ['64k', 65_536],
      ['4m', 4 << 20],
      ['1MiB', 1 << 20],
      ['1mb', 1 << 20],
      ['1g', 1 << 30],
      ['1.5k', 1536],
    ] as const)
      assert.equal(parseSize(text), bytes, text);
    for (const bad of ['', 'm', '-1', '1x', '1 t']) assert.equal(parseSize(bad), undefined, bad);
  });

  it('defaults to blocking, and to 1m in non-blocking mode', () => {
    assert.deepEqual(deliveryOptions({}), { mode: 'blocking', maxBufferBytes: DEFAULT_MAX_BUFFER_BYTES });
    assert.deepEqual(deliveryOptions({ mode: 'non-blocking', 'max-buffer-size': '4k' }), {
      mode: 'non-blocking',
      maxBufferBytes: 4096,
    });
  });

  it("refuses what dockerd refuses, with dockerd's words", () => {
    assert.throws(() => deliveryOptions({ mode: 'fast' }), /logging mode not supported: fast/);
    assert.throws(
      () => deliveryOptions({ 'max-buffer-size': '1m' }),
      /max-buffer-size option is only supported with 'mode=non-blocking'/,
    );
    assert.throws(
      () => deliveryOptions({ mode: 'non-blocking', 'max-buffer-size': 'lots' }),
      /invalid log-opt max-buffer-size=lots/,
    );
  });
});
