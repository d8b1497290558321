import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { gzipBlocks } from './gzip-blocks.ts';

const BLOCK = 64 * 1024;

/** gzips `input` fed in pieces of `piece` bytes; returns the gzip bytes. */
async function gzipOf(input: Buffer, piece = 10_000, parallel = 3, level = 6): Promise<Buffer> {
  const pieces = Array.from({ length: Math.ceil(input.length / piece) }, (_, i) =>
    input.subarray(i * piece, (i + 1) * piece),
  );
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    gzipBlocks({ level, blockBytes: BLOCK, parallel }),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Compressible but not trivially: words from a small vocabulary in a pseudo-random order. */
function text(bytes: number): Buffer {
  const words = ['plugin', 'rootfs', 'config', 'socket', 'runc', 'layer', 'digest', 'volume', '\n'];
  let seed = 7;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const w = words[seed % words.length] as string;
    parts.push(w, ' ');
    length += w.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

describe('gzipBlocks', () => {
  const sizes = [0, 1, 1000, 32 * 1024 - 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, 5 * BLOCK + 12_345];
  for (const size of sizes) {
    it(`gives a gzip member that gunzips to the input (${size} bytes, random and text)`, async () => {
      for (const input of [randomBytes(size), text(size)]) {
        const gz = await gzipOf(input);
        assert.deepEqual(gunzipSync(gz), input); // gunzip checks the CRC-32 and the size too
        assert.deepEqual(gz.subarray(0, 3), Buffer.from([0x1f, 0x8b, 0x08]));
      }
    });
  }

  it('gives the same bytes for the same input, however it is fed and however many blocks run at once', async () => {
    const input = text(7 * BLOCK + 999);
    const first = await gzipOf(input, 10_000, 3);
    assert.deepEqual(await gzipOf(input, 1 << 20, 1), first);
    assert.deepEqual(await gzipOf(input, 4096, 8), first);
  });

  it('compresses about as well as one deflate stream (the dictionary carries the window across cuts)', async () => {
    const input = text(20 * BLOCK);
    const blocks = (await gzipOf(input)).length;
    const single = gzipSync(input).length;
    assert.ok(blocks < single * 1.01, `${blocks} bytes against ${single} from one stream`);
  });

  it("fails the pipeline with zlib's error for a bad level", async () => {
    await assert.rejects(gzipOf(text(3 * BLOCK), 10_000, 2, 42), /level/i);
  });
});
