import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insecureRegistries, insecureRegistryProblems } from './insecure.ts';

describe('insecureRegistries()', () => {
  it('allows loopback registries by default, like Docker, and nothing else', () => {
    const insecure = insecureRegistries([]);
    for (const d of ['localhost:5000', 'localhost', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) {
      assert.equal(insecure(d), true, d);
    }
    for (const d of ['docker.io', 'registry.example.com:5000', '10.0.0.1:5000', 'localhost.evil.com']) {
      assert.equal(insecure(d), false, d);
    }
  });

  it('adds host[:port] entries matched exactly and CIDR entries matched against IP hosts', () => {
    const insecure = insecureRegistries(['reg.lan:5000', 'plain.lan', '10.1.0.0/16']);
    assert.equal(insecure('reg.lan:5000'), true);
    assert.equal(insecure('reg.lan:6000'), false);
    assert.equal(insecure('plain.lan:443'), true);
    assert.equal(insecure('10.1.200.3:5000'), true);
    assert.equal(insecure('10.2.0.1:5000'), false);
  });

  it('refuses malformed entries, naming them', () => {
    assert.deepEqual(insecureRegistryProblems(['10.0.0.0/abc', 'ok.lan', 'sp ace']), [
      'insecure-registries: "10.0.0.0/abc" is neither host[:port] nor a CIDR such as 10.0.0.0/8',
      'insecure-registries: "sp ace" is neither host[:port] nor a CIDR such as 10.0.0.0/8',
    ]);
    assert.throws(() => insecureRegistries(['x y']), { name: 'InvalidParameterError' });
  });
});
