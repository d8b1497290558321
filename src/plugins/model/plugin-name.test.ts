import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeName, parseReference } from './plugin-name.ts';

describe('normalizeName()', () => {
  const ok: [string, string][] = [
    ['vol', 'vol:latest'],
    ['research/vol', 'research/vol:latest'],
    ['research/vol:1.0', 'research/vol:1.0'],
    ['docker.io/research/vol', 'research/vol:latest'],
    ['docker.io/library/vol:2', 'vol:2'],
    ['index.docker.io/library/vol', 'vol:latest'],
    ['localhost:5000/team/vol:v1', 'localhost:5000/team/vol:v1'],
    ['registry.example.com/a/b/c', 'registry.example.com/a/b/c:latest'],
    ['team/a-b_c__d.e', 'team/a-b_c__d.e:latest'],
  ];
  for (const [input, want] of ok) it(`${input} → ${want}`, () => assert.equal(normalizeName(input), want));

  const bad: [string, RegExp][] = [
    ['research/Bad', /repository name \(research\/Bad\) must be lowercase/],
    [`vol@sha256:${'a'.repeat(64)}`, /: canonical references are not permitted$/],
    ['', /it is empty/],
    ['vol:', /tag "" must be/],
    ['a//b', /path component ""/],
    ['-vol', /path component "-vol"/],
    ['vol:t@g', /canonical references/],
    ['x'.repeat(256), /longer than 255/],
  ];
  for (const [input, want] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 30))}`, () =>
      assert.throws(() => normalizeName(input), want));
  }

  it('splits repository and tag', () => {
    assert.deepEqual(parseReference('localhost:5000/vol'), {
      repository: 'localhost:5000/vol',
      tag: 'latest',
    });
  });
});
