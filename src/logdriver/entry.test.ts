import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEntry, encodeFrame, FrameDecoder } from './entry.ts';

describe('LogEntry frames', () => {
  it('encodes the wire bytes protoc would (field numbers, varint int64, length prefix)', () => {
    const frame = encodeFrame({ source: 'stdout', timeNano: 1n, line: Buffer.from('hi'), partial: false });
    // 0a 06 "stdout" | 10 01 | 1a 02 "hi"  (proto3 leaves the false bool out)
    assert.equal(
      frame.toString('hex'),
      `0000000e0a06${Buffer.from('stdout').toString('hex')}10011a02${Buffer.from('hi').toString('hex')}`,
    );
  });

  it('round-trips nanosecond timestamps beyond 2^53, binary lines and partial metadata', () => {
    const e = {
      source: 'stderr',
      timeNano: 1_764_633_600_123_456_789n,
      line: Buffer.from([0, 255, 10, 13]),
      partial: true,
      partialMetadata: { id: 'abc', ordinal: 3, last: true },
    };
    const frame = encodeFrame(e);
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    assert.deepEqual(decodeEntry(frame.subarray(4)), e);
  });

  it('decodes a stream cut at any byte', () => {
    const frames = Buffer.concat(
      ['a', '', 'ccc'].map((l, i) =>
        encodeFrame({ source: 'stdout', timeNano: BigInt(i), line: Buffer.from(l), partial: false }),
      ),
    );
    const d = new FrameDecoder();
    const got = [...frames].flatMap((b) => d.push(Buffer.from([b])));
    assert.deepEqual(
      got.map((e) => e.line.toString()),
      ['a', '', 'ccc'],
    );
    assert.equal(d.pendingBytes, 0);
  });

  it('refuses an absurd frame length instead of buffering it', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff])), /exceeds/);
  });
});
