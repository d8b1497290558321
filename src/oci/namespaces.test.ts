import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, hasNamespace, type NamespaceType, removeNamespace, type Spec } from './index.ts';

const types = (s: Spec) => s.linux?.namespaces?.map((n) => n.type);

describe('removeNamespace()', () => {
  const cases: [NamespaceType, NamespaceType[]][] = [
    ['network', ['mount', 'uts', 'pid', 'ipc']],
    ['pid', ['mount', 'network', 'uts', 'ipc']],
    ['ipc', ['mount', 'network', 'uts', 'pid']],
    ['user', ['mount', 'network', 'uts', 'pid', 'ipc']],
  ];
  for (const [type, expected] of cases) {
    it(`removes ${type} and keeps the order of the rest`, () => {
      const spec = defaultSpec();
      removeNamespace(spec, type);
      assert.deepEqual(types(spec), expected);
      assert.equal(hasNamespace(spec, type), false);
    });
  }

  it('removes only the first match, as moby does', () => {
    const spec: Spec = {
      ociVersion: '1',
      linux: { namespaces: [{ type: 'pid' }, { type: 'pid', path: '/x' }] },
    };
    removeNamespace(spec, 'pid');
    assert.deepEqual(spec.linux?.namespaces, [{ type: 'pid', path: '/x' }]);
  });

  it('accepts a spec without linux section', () => {
    const spec: Spec = { ociVersion: '1' };
    removeNamespace(spec, 'pid');
    assert.deepEqual(spec, { ociVersion: '1' });
    assert.equal(hasNamespace(spec, 'pid'), false);
  });
});
