import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDevices, defaultSpec, deviceCgroupRule, type LinuxDevice } from './index.ts';

const fuse: LinuxDevice = {
  path: '/dev/fuse',
  type: 'c',
  major: 10,
  minor: 229,
  fileMode: 0o600,
  uid: 0,
  gid: 0,
};
const loop: LinuxDevice = {
  path: '/dev/loop0',
  type: 'b',
  major: 7,
  minor: 0,
  fileMode: 0o660,
  uid: 0,
  gid: 6,
};
const fifo: LinuxDevice = { path: '/run/f', type: 'p', major: 0, minor: 0, fileMode: 0o644, uid: 0, gid: 0 };

describe('deviceCgroupRule()', () => {
  it('allows char and block devices by type and number', () => {
    assert.deepEqual(deviceCgroupRule(fuse, 'rwm'), {
      allow: true,
      type: 'c',
      major: 10,
      minor: 229,
      access: 'rwm',
    });
    assert.deepEqual(deviceCgroupRule(loop, 'r'), {
      allow: true,
      type: 'b',
      major: 7,
      minor: 0,
      access: 'r',
    });
  });

  it('gives no rule for a FIFO (runc rejects cgroup type "p")', () => {
    assert.equal(deviceCgroupRule(fifo, 'rwm'), undefined);
  });
});

describe('addDevices()', () => {
  it('appends nodes and appends rules after the default deny rules', () => {
    const spec = defaultSpec();
    addDevices(spec, [fuse, fifo, loop], 'rwm');
    assert.deepEqual(spec.linux?.devices, [fuse, fifo, loop]);
    const rules = spec.linux?.resources?.devices ?? [];
    assert.equal(rules.length, 10);
    assert.deepEqual(rules[7], { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
    assert.deepEqual(rules.slice(8), [deviceCgroupRule(fuse, 'rwm'), deviceCgroupRule(loop, 'rwm')]);
  });

  it('leaves the spec untouched when there is nothing to add', () => {
    const spec = defaultSpec();
    addDevices(spec, [], 'rwm');
    assert.deepEqual(spec, defaultSpec());
  });
});
