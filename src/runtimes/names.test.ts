import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isShimRuntimeName, runtimeNameProblem, shimBinaryName } from './names.ts';

describe('runtimeNameProblem()', () => {
  const cases: [string, string | undefined][] = [
    ['crun', undefined],
    ['runsc-ptrace', undefined],
    ['io.containerd.kata.v2', undefined],
    ['', 'it is empty'],
    ['a'.repeat(63), undefined],
    ['a'.repeat(64), 'it is longer than 63 characters'],
    ['../evil', 'it contains "/"'],
    ['..', 'it contains ".."'],
    ['.', 'it contains ".."'],
    ['a..b', 'it contains ".."'],
    ['-runc', 'it starts with "-"'],
    ['my runtime', 'it contains white space or control characters'],
    ['nl\nx', 'it contains white space or control characters'],
  ];
  for (const [name, want] of cases) {
    it(`${JSON.stringify(name.slice(0, 20))} → ${want ?? 'ok'}`, () =>
      assert.equal(runtimeNameProblem(name), want));
  }
});

describe('isShimRuntimeName()', () => {
  const cases: [string, boolean][] = [
    ['io.containerd.runsc.v1', true],
    ['foo.bar', true],
    ['nvidia', false],
    ['.v2', false],
    ['/usr/bin/runc.v2', false],
    ['a/b.c', false],
  ];
  for (const [name, want] of cases)
    it(`${name} → ${want}`, () => assert.equal(isShimRuntimeName(name), want));
});

describe('shimBinaryName()', () => {
  it('takes the last two dot-separated parts, as containerd does', () => {
    assert.equal(shimBinaryName('io.containerd.runc.v2'), 'containerd-shim-runc-v2');
    assert.equal(shimBinaryName('io.containerd.kata.v2'), 'containerd-shim-kata-v2');
    assert.equal(shimBinaryName('foo.bar'), 'containerd-shim-foo-bar');
  });
});
