/**
 * Content digests of registry objects: `sha256:<hex>` of bytes, and a stream check of a blob against its digest.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { InvalidParameterError } from '../errdefs/index.ts';

export const sha256 = (data: Buffer | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A pass-through that fails the stream when the content does not hash to `digest` or exceeds `size`. */
export function verifyDigest(digest: string, size?: number): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (size !== undefined && seen > size) {
        done(new InvalidParameterError(`blob ${digest} is larger than the ${size} bytes its manifest says`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest)
        done(new InvalidParameterError(`blob ${digest} failed verification: its content hashes to ${got}`));
      else done();
    },
  });
}
