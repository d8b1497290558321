import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGoDuration } from './go-duration.ts';

describe("Go's duration syntax", () => {
  const good: [string, number][] = [
    ['0', 0],
    ['10s', 10e9],
    ['1.5s', 1.5e9],
    ['200ms', 200e6],
    ['1m30s', 90e9],
    ['1h', 3600e9],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['7ns', 7],
    ['.5s', 0.5e9],
    ['-1s', -1e9],
    ['+2m', 120e9],
  ];
  for (const [text, ns] of good) it(`reads ${text}`, () => assert.equal(parseGoDuration(text, '--x'), ns));

  for (const text of ['', '10', 's', '10 s', '1d', '1.2.3s', '-']) {
    it(`refuses ${JSON.stringify(text)} naming the flag`, () =>
      assert.throws(
        () => parseGoDuration(text, '--health-interval'),
        /^InvalidParameterError: invalid duration ".*" for --health-interval: use a number with a unit/,
      ));
  }
});
