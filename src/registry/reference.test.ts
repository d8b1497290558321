import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { familiarRepository, parseRemoteReference, qualifiedReference, withDefaultTag } from './reference.ts';

describe('parseRemoteReference()', () => {
  const cases: [string, string, string][] = [
    // input, qualified (with default tag), familiar
    ['vieux/sshfs', 'docker.io/vieux/sshfs:latest', 'vieux/sshfs'],
    ['busybox', 'docker.io/library/busybox:latest', 'busybox'],
    ['docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox'],
    ['index.docker.io/a/b:2', 'docker.io/a/b:2', 'a/b'],
    ['localhost:5000/team/vol:1.0', 'localhost:5000/team/vol:1.0', 'localhost:5000/team/vol'],
    ['localhost/vol', 'localhost/vol:latest', 'localhost/vol'],
    ['reg.example.com/a/b/c', 'reg.example.com/a/b/c:latest', 'reg.example.com/a/b/c'],
    [`a/b@sha256:${'c'.repeat(64)}`, `docker.io/a/b@sha256:${'c'.repeat(64)}`, 'a/b'],
  ];
  for (const [input, qualified, familiar] of cases) {
    it(`${input} → ${qualified}`, () => {
      const ref = withDefaultTag(parseRemoteReference(input));
      assert.equal(qualifiedReference(ref), qualified);
      assert.equal(familiarRepository(ref), familiar);
    });
  }

  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['Team/vol', /repository name \(Team\/vol\) must be lowercase/],
    ['a/b:-x', /tag "-x" must be/],
    ['a/b@sha256:12', /digest "sha256:12" must be sha256: and 64/],
    ['a//b', /path component "" must be/],
    ['bad_host.:5000/x', /registry "bad_host.:5000" is not a host name/],
    [`a/${'b'.repeat(260)}`, /longer than 255/],
  ];
  for (const [input, message] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 30))} saying why`, () => {
      assert.throws(() => parseRemoteReference(input), { name: 'InvalidParameterError', message });
    });
  }
});
