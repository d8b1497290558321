import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindMount, parseBind } from './binds.ts';

describe('parseBind', () => {
  const ok: [string, ReturnType<typeof parseBind>][] = [
    ['data:/data', { kind: 'volume', name: 'data', destination: '/data', readonly: false }],
    ['data:/data:ro', { kind: 'volume', name: 'data', destination: '/data', readonly: true }],
    ['data:/data:rw', { kind: 'volume', name: 'data', destination: '/data', readonly: false }],
    ['/srv/x:/x', { kind: 'host', source: '/srv/x', destination: '/x', readonly: false }],
    ['/srv/x:/x:ro', { kind: 'host', source: '/srv/x', destination: '/x', readonly: true }],
  ];
  for (const [spec, want] of ok) it(`reads ${spec}`, () => assert.deepEqual(parseBind(spec), want));

  const bad: [string, RegExp][] = [
    ['/data', /anonymous volumes are not supported/],
    ['data:rel', /container path must be absolute/],
    ['data:/', /cannot be \//],
    ['data:/d:z', /unsupported mode "z": berth accepts ro or rw/],
    ['a:/b:ro:x', /too many colons/],
    ['-x:/d', /neither an absolute host path nor a volume name/],
    [':/d', /neither an absolute host path nor a volume name/],
  ];
  for (const [spec, want] of bad)
    it(`refuses ${spec}`, () =>
      assert.throws(
        () => parseBind(spec),
        (e: Error) => e.name === 'InvalidParameterError' && want.test(e.message) && e.message.includes(spec),
      ));
});

describe('bindMount', () => {
  it('uses rbind,rprivate and the mode', () => {
    assert.deepEqual(bindMount('/h', parseBind('v1:/d:ro')), {
      destination: '/d',
      type: 'bind',
      source: '/h',
      options: ['rbind', 'rprivate', 'ro'],
    });
    assert.deepEqual(bindMount('/h', parseBind('v1:/d')).options, ['rbind', 'rprivate', 'rw']);
  });
});
