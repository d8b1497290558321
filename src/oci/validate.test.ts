import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SCHEMA_DIR } from '../../test/fixtures.ts';
import { defaultSpec, type RootfsPropagation, validateSpec } from './index.ts';

const fixtures = (kind: 'good' | 'bad'): [string, string][] =>
  readdirSync(`${SCHEMA_DIR}test/config/${kind}`).map((f) => [
    f,
    readFileSync(`${SCHEMA_DIR}test/config/${kind}/${f}`, 'utf8'),
  ]);

/** Issues for a fixture's text; a document that is not even JSON counts as one issue. */
function issuesOf(text: string, flavor: 'official' | 'berth') {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [{ path: '', message: 'not JSON' }];
  }
  return validateSpec(doc, flavor);
}

describe('validateSpec()', () => {
  for (const [name, text] of fixtures('good')) {
    it(`accepts upstream good fixture ${name}`, () => {
      assert.deepEqual(issuesOf(text, 'official'), []);
      assert.deepEqual(issuesOf(text, 'berth'), []);
    });
  }
  for (const [name, text] of fixtures('bad')) {
    it(`rejects upstream bad fixture ${name}`, () => {
      assert.notEqual(issuesOf(text, 'official').length, 0);
      assert.notEqual(issuesOf(text, 'berth').length, 0);
    });
  }

  it('reports a missing ociVersion with its path', () => {
    assert.deepEqual(validateSpec({}), [{ path: '/', message: "must have required property 'ociVersion'" }]);
  });

  // moby writes rootfsPropagation "rshared" and runc honours it; the v1.3.0 schema only lists the
  // non-recursive values. berth's flavor accepts runc's recursive values and nothing else beyond the schema.
  const withPropagation = (p: string) => ({
    ...defaultSpec(),
    linux: { ...defaultSpec().linux, rootfsPropagation: p },
  });

  it('official schema rejects rshared, and only because of rootfsPropagation', () => {
    const issues = validateSpec(withPropagation('rshared'), 'official');
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, '/linux/rootfsPropagation');
    assert.match(issues[0]?.message ?? '', /must be equal to one of the allowed values/);
  });

  for (const p of [
    'rshared',
    'rslave',
    'rprivate',
    'runbindable',
    'shared',
    'private',
  ] satisfies RootfsPropagation[]) {
    it(`berth flavor accepts rootfsPropagation ${p}`, () => {
      assert.deepEqual(validateSpec(withPropagation(p)), []);
    });
  }

  it('berth flavor still rejects an unknown propagation', () => {
    assert.equal(validateSpec(withPropagation('rsharedd')).length, 1);
  });
});
