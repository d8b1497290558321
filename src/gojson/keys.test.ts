import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalKeys, describeUnknownKey, type FieldSchema, foldKey } from './keys.ts';

const SCHEMA: FieldSchema = {
  properties: {
    Name: { type: 'string' },
    WorkDir: { type: 'string' },
    Interface: { properties: { Types: { type: ['array', 'null'], items: { type: 'string' } }, Socket: {} } },
    Mounts: {
      type: ['array', 'null'],
      items: { properties: { Source: { type: ['string', 'null'] }, Destination: { type: 'string' } } },
    },
    Labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

describe('canonicalKeys()', () => {
  it('matches keys case-insensitively at every depth and spells them as the fields', () => {
    const { value, unknown } = canonicalKeys(
      {
        name: 'x',
        workdir: '/w',
        INTERFACE: { types: ['docker.volumedriver/1.0'], sOcKeT: 's.sock' },
        mounts: [{ source: null, DESTINATION: '/d' }],
      },
      SCHEMA,
      'config.json',
    );
    assert.deepEqual(value, {
      Name: 'x',
      WorkDir: '/w',
      Interface: { Types: ['docker.volumedriver/1.0'], Socket: 's.sock' },
      Mounts: [{ Source: null, Destination: '/d' }],
    });
    assert.deepEqual(unknown, []);
  });

  it('keeps map keys verbatim (Go matches struct fields only)', () => {
    const { value } = canonicalKeys({ labels: { Team: 'a', team: 'b' } }, SCHEMA, 'body');
    assert.deepEqual(value, { Labels: { Team: 'a', team: 'b' } });
  });

  it('reports unknown keys with their path and a suggestion, and drops them', () => {
    const { value, unknown } = canonicalKeys(
      { Nmae: 'x', Interface: { Sockt: 's' }, Mounts: [{ Extra: 1 }], zzz: 1 },
      SCHEMA,
      'config.json',
    );
    assert.deepEqual(value, { Interface: {}, Mounts: [{}] });
    assert.deepEqual(unknown.map(describeUnknownKey), [
      'config.json.Nmae: unknown key ignored (did you mean "Name"?)',
      'config.json.Interface.Sockt: unknown key ignored (did you mean "Socket"?)',
      'config.json.Mounts[0].Extra: unknown key ignored',
      'config.json.zzz: unknown key ignored',
    ]);
  });

  it('prefers an exact match, lets a later duplicate win, and merges repeated objects as Go does', () => {
    assert.deepEqual(canonicalKeys({ name: 'a', Name: 'b' }, SCHEMA, 'c').value, { Name: 'b' });
    assert.deepEqual(canonicalKeys({ Name: 'b', name: 'a' }, SCHEMA, 'c').value, { Name: 'a' });
    assert.deepEqual(
      canonicalKeys({ Interface: { Socket: 's' }, interface: { Types: ['t'] } }, SCHEMA, 'c').value,
      { Interface: { Socket: 's', Types: ['t'] } },
    );
  });

  it('treats null as absent for a field that cannot hold null (Go leaves the zero value)', () => {
    assert.deepEqual(canonicalKeys({ Name: null, Mounts: null }, SCHEMA, 'c').value, { Mounts: null });
  });

  it('does not modify or share its input', () => {
    const input = { interface: { types: ['a'] }, Labels: { k: 'v' } };
    const before = JSON.stringify(input);
    const { value } = canonicalKeys(input, SCHEMA, 'c');
    (value as { Labels: Record<string, string> }).Labels.k = 'changed';
    assert.equal(JSON.stringify(input), before);
  });

  it('folds like Go: ASCII, KELVIN SIGN and LONG S only', () => {
    assert.equal(foldKey('PropagatedMount'), 'propagatedmount');
    assert.equal(foldKey('\u212aey'), 'key');
    assert.equal(foldKey('\u017focket'), 'socket');
    assert.equal(foldKey('Ä'), 'Ä');
    assert.deepEqual(canonicalKeys({ '\u017focket': 'x' }, SCHEMA.properties?.Interface ?? {}, 'c').value, {
      Socket: 'x',
    });
  });
});
