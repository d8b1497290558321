/**
 * gzip on more than one core, as pigz does it: the input is cut into blocks of a fixed size, each block is
 * deflated on its own on libuv's thread pool with the previous block's last 32 KiB as its dictionary (what a single
 * deflate stream would have in its window there), every block but the last ends with a sync flush (byte-aligned,
 * not final), and the blocks' output, in order, between a gzip header and the CRC-32 + size trailer, is one valid
 * gzip member. The same input gives the same bytes (the cuts depend only on the size). A single zlib stream
 * compresses ~30 MiB/s here, so a push of a 200 MiB plugin was gzip's 7–8 s on one thread (BENCHMARKS.md, "Push").
 * Each block's output is sized to fit in one zlib pass: with zlib's 16 KiB default, every piece of output was a
 * round trip to the main thread, which then held the threads back.
 *
 * Memory stays bounded: at most `parallel` blocks are being deflated and their input buffers are reused, so no
 * block-sized Buffer is left for V8 to collect (one alive across several scavenges would be promoted and wait for
 * a full collection).
 *
 * @module
 */
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);

/** Deflate's window: the dictionary a block gets from the one before it. */
const WINDOW_BYTES = 32 * 1024;
/** gzip's header: deflate, no flags, no mtime, no extra flags, OS = Unix (3). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);

export interface GzipBlocksOptions {
  /** zlib's compression level (1–9). */
  readonly level: number;
  /** Bytes of input per block (pigz: 128 KiB); below 32 KiB the output is still valid but unprimed. */
  readonly blockBytes: number;
  /** Blocks deflated at once; each takes a thread of libuv's pool (4 threads) while it runs. */
  readonly parallel: number;
}

/** A block being deflated, and the input buffer it holds until then. */
interface InFlight {
  readonly output: Promise<Buffer>;
  readonly input: Buffer;
}

function deflateBlock(
  input: Buffer,
  dictionary: Buffer | undefined,
  last: boolean,
  level: number,
): Promise<Buffer> {
  const options: ZlibOptions = {
    level,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    // room for all of the block's output (deflate's worst case), so zlib fills it in one pass on its thread
    // instead of coming back to the main thread for every 16 KiB chunk (its default)
    chunkSize: Math.max(constants.Z_MIN_CHUNK, input.length + (input.length >> 8) + 1024),
  };
  const output = deflateRawAsync(input, dictionary ? { ...options, dictionary } : options);
  output.catch(() => {}); // awaited in order later; a failure meanwhile is not unhandled
  return output;
}

function trailer(crc: number, size: number): Buffer {
  const t = Buffer.allocUnsafe(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 2 ** 32, 4);
  return t;
}

/**
 * A `pipeline` stage that gzips its input with {@link GzipBlocksOptions.parallel} blocks deflated at once.
 * @throws what zlib throws for a block (the pipeline fails with it)
 */
export function gzipBlocks(o: GzipBlocksOptions): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* gzip(source) {
    yield GZIP_HEADER;
    const inFlight: InFlight[] = [];
    const spare: Buffer[] = [];
    let block: Buffer = Buffer.allocUnsafe(o.blockBytes);
    let filled = 0;
    let dictionary: Buffer | undefined;
    let crc = 0;
    let size = 0;
    const send = (last: boolean) => {
      const input = block.subarray(0, filled);
      inFlight.push({ output: deflateBlock(input, dictionary, last, o.level), input: block });
      // a copy: the block's buffer is reused once it is deflated, while the next block still needs its tail
      dictionary = filled >= WINDOW_BYTES ? Buffer.from(input.subarray(filled - WINDOW_BYTES)) : undefined;
      block = spare.pop() ?? Buffer.allocUnsafe(o.blockBytes);
      filled = 0;
    };
    const oldest = async () => {
      const done = inFlight.shift() as InFlight;
      const output = await done.output;
      spare.push(done.input);
      return output;
    };
    for await (const chunk of source) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        const n = chunk.copy(block, filled, at);
        filled += n;
        at += n;
        if (filled < o.blockBytes) continue;
        send(false);
        if (inFlight.length >= o.parallel) yield await oldest();
      }
    }
    send(true);
    while (inFlight.length > 0) yield await oldest();
    yield trailer(crc, size);
  };
}
