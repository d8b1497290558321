import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFixture, readJsonFixture } from '../../test/fixtures.ts';
import { DEFAULT_CAPABILITIES, defaultSpec, type Spec, validateSpec } from './index.ts';

// The config.json a real dockerd 20.10.24 generated for a plugin: its first seven mounts, cgroup rules,
// namespaces and path lists are Docker's defaults, untouched by that plugin.
const dockerd = readJsonFixture<Spec>('dockerd/dockerd-plugin-oci-config.json');

describe('defaultSpec()', () => {
  it('has the seven default mounts of dockerd, in order, with identical options', () => {
    assert.deepEqual(defaultSpec().mounts, dockerd.mounts?.slice(0, 7));
  });

  it('has dockerd default cgroup device rules: deny all, six allows, then deny fuse', () => {
    const rules = defaultSpec().linux?.resources?.devices;
    assert.deepEqual(rules, dockerd.linux?.resources?.devices?.slice(0, 8));
    assert.deepEqual(rules?.at(-1), { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
  });

  it('has the namespaces, masked and read-only paths of dockerd', () => {
    const linux = defaultSpec().linux;
    assert.deepEqual(linux?.namespaces, dockerd.linux?.namespaces);
    assert.deepEqual(linux?.maskedPaths, dockerd.linux?.maskedPaths);
    assert.deepEqual(linux?.readonlyPaths, dockerd.linux?.readonlyPaths);
  });

  it('grants the 14 default capabilities in bounding, effective and permitted, and no inheritable', () => {
    const caps = defaultSpec().process?.capabilities;
    const dockerdDefaults = dockerd.process?.capabilities?.bounding?.filter((c) => c !== 'CAP_SYS_ADMIN');
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.deepEqual(caps?.bounding, dockerdDefaults);
    assert.deepEqual(caps?.effective, dockerdDefaults);
    assert.deepEqual(caps?.permitted, dockerdDefaults);
    assert.equal(caps?.inheritable, undefined);
  });

  it('has ociVersion 1.0.2-dev and root user 0:0', () => {
    const spec = defaultSpec();
    assert.equal(spec.ociVersion, dockerd.ociVersion);
    assert.deepEqual(spec.process?.user, { uid: 0, gid: 0 });
  });

  it('matches the reviewed golden file, key order included', () => {
    assert.equal(`${JSON.stringify(defaultSpec(), null, 2)}\n`, readFixture('spec/default.json'));
  });

  it('returns a fresh object each call', () => {
    const a = defaultSpec();
    a.mounts?.pop();
    a.process?.capabilities?.bounding?.push('CAP_SYS_ADMIN');
    const b = defaultSpec();
    assert.equal(b.mounts?.length, 7);
    assert.equal(b.process?.capabilities?.bounding?.length, 14);
  });

  it('validates against the official OCI schema', () => {
    assert.deepEqual(validateSpec(defaultSpec(), 'official'), []);
  });
});
