import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRunRequest } from './runs.ts';

const base = { rootfs: '/r', args: ['true'] };

describe('parseRunRequest(): plugin fields', () => {
  it('accepts binds, drivers, log opts and labels', () => {
    const req = {
      ...base,
      binds: ['v:/d:ro', '/h:/h'],
      volumeDriver: 'example/vol',
      logDriver: 'example/log',
      logOpts: { mode: 'non-blocking' },
      labels: { a: '' },
    };
    assert.deepEqual(parseRunRequest(req), req);
  });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ binds: 'v:/d' }, /binds must be an array/],
    [{ volumeDriver: '' }, /volumeDriver must be a plugin name/],
    [{ logDriver: 3 }, /logDriver must be a plugin name/],
    [{ logOpts: { mode: 1 } }, /logOpts must be an object of string values/],
    [{ labels: ['a=b'] }, /labels must be an object of string values/],
  ];
  for (const [extra, want] of bad)
    it(`refuses ${JSON.stringify(extra)}`, () =>
      assert.throws(() => parseRunRequest({ ...base, ...extra }), want));
});
