/**
 * Property tests: whatever JSON or text users send, the parsers answer with a value or an InvalidParameterError
 * naming the problem — never another exception (a 500 over the API).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { decodeManifest, manifestProblems } from './manifest.ts';
import { normalizeName } from './plugin-name.ts';
import { applySettings } from './set.ts';
import { initialSettings } from './settings.ts';

function onlyUserErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof InvalidParameterError, `unexpected ${(err as Error)?.stack ?? String(err)}`);
    assert.ok((err as Error).message.length > 0);
  }
}

const manifestLike = fc.record(
  {
    Entrypoint: fc.oneof(fc.array(fc.string()), fc.constant(null), fc.anything()),
    Interface: fc.oneof(
      fc.record({
        Types: fc.oneof(fc.array(fc.string()), fc.anything()),
        Socket: fc.oneof(fc.string(), fc.anything()),
      }),
      fc.anything(),
    ),
    Env: fc.oneof(
      fc.array(
        fc.record({
          Name: fc.string(),
          Value: fc.oneof(fc.string(), fc.constant(null)),
          Settable: fc.array(fc.string()),
        }),
      ),
      fc.anything(),
    ),
    Mounts: fc.oneof(
      fc.array(
        fc.record({
          Name: fc.string(),
          Destination: fc.string(),
          Source: fc.oneof(fc.string(), fc.constant(null)),
          Settable: fc.array(fc.string()),
        }),
      ),
      fc.anything(),
    ),
    Linux: fc.oneof(
      fc.record({ Capabilities: fc.array(fc.string()), Devices: fc.anything() }),
      fc.anything(),
    ),
    Network: fc.anything(),
    Args: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('parsers never fail with anything but a user error (fast-check)', () => {
  it('manifests', () => {
    fc.assert(
      fc.property(fc.oneof(manifestLike, fc.anything()), (input) => {
        onlyUserErrors(() => manifestProblems(decodeManifest(input)));
      }),
      { numRuns: 400 },
    );
  });

  it('plugin names', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (name) => {
        onlyUserErrors(() => {
          const n = normalizeName(name);
          assert.match(n, /:[\w][\w.-]*$/);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('set items, applied atomically', () => {
    const config = decodeManifest({
      Entrypoint: ['/p'],
      Interface: { Types: ['docker.volumedriver/1.0'], Socket: 's.sock' },
      Env: [
        { Name: 'A', Settable: ['value'], Value: '1' },
        { Name: 'a.b', Settable: ['value'] },
      ],
      Mounts: [{ Name: 'm', Destination: '/m', Source: null, Settable: ['source'] }],
      Linux: { Devices: [{ Name: 'd', Path: null, Settable: ['path'] }] },
      Args: { Name: 'args', Settable: ['value'], Value: [] },
    });
    const settings = initialSettings(config);
    const word = fc.stringMatching(/^[A-Za-z.=/[\]" -]{0,12}$/);
    const item = fc.oneof(
      word,
      fc.constantFrom('A=2', 'a.b=3', 'm=/x', 'd.path=/dev/null', 'args=["x"]', 'args=[', '=x', 'A.value='),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 5 }), (items) => {
        const before = JSON.stringify(settings);
        onlyUserErrors(() => applySettings(config, settings, items));
        assert.equal(JSON.stringify(settings), before, 'the input settings are never modified');
      }),
      { numRuns: 500 },
    );
  });
});
