import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidParameterError } from '../errdefs/index.ts';
import { parseRuntimesConfig } from './config.ts';
import { runtimeNameProblem, wrapperFileName } from './index.ts';

describe('runtime configuration never fails with anything but a user error (fast-check)', () => {
  it('daemon.json runtimes and flags', () => {
    const entry = fc.oneof(
      fc.record(
        {
          path: fc.oneof(fc.string(), fc.anything()),
          runtimeArgs: fc.oneof(fc.array(fc.string()), fc.anything()),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        { runtimeType: fc.oneof(fc.string(), fc.anything()), options: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.dictionary(fc.string({ maxLength: 70 }), entry, { maxKeys: 4 }), fc.anything()),
        fc.oneof(fc.string(), fc.anything()),
        fc.array(fc.string(), { maxLength: 3 }),
        (runtimes, defaultRuntime, addRuntime) => {
          try {
            const c = parseRuntimesConfig({ runtimes, defaultRuntime, addRuntime });
            // Whatever was accepted can name a wrapper file: no name escapes the runtimes directory.
            for (const name of Object.keys(c.runtimes)) {
              assert.equal(runtimeNameProblem(name), undefined);
              assert.ok(!wrapperFileName(name, '').includes('/'));
            }
          } catch (err) {
            assert.ok(err instanceof InvalidParameterError, String((err as Error)?.stack ?? err));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
