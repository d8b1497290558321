import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../errdefs/index.ts';
import { parseRuntimesConfig, type RuntimesConfigSource } from './config.ts';

function problems(source: RuntimesConfigSource): string {
  try {
    parseRuntimesConfig(source);
  } catch (err) {
    assert.ok(err instanceof InvalidParameterError, String(err));
    return err.message;
  }
  assert.fail('expected an InvalidParameterError');
}

describe('parseRuntimesConfig()', () => {
  it('defaults to runc with no configured runtimes', () => {
    assert.deepEqual(parseRuntimesConfig({}), { runtimes: {}, defaultRuntime: 'runc' });
  });

  it('accepts path runtimes with args and shim runtimes with options', () => {
    const c = parseRuntimesConfig({
      runtimes: {
        crun: { path: '/usr/bin/crun' },
        gvisor: { path: 'runsc', runtimeArgs: ['--platform=ptrace'] },
        kata: { runtimeType: 'io.containerd.kata.v2', options: { ConfigPath: '/etc/kata.toml' } },
      },
      defaultRuntime: 'gvisor',
    });
    assert.deepEqual(c.runtimes.crun, { path: '/usr/bin/crun', runtimeArgs: [] });
    assert.deepEqual(c.runtimes.gvisor, { path: 'runsc', runtimeArgs: ['--platform=ptrace'] });
    assert.deepEqual(c.runtimes.kata, {
      runtimeType: 'io.containerd.kata.v2',
      options: { ConfigPath: '/etc/kata.toml' },
    });
    assert.equal(c.defaultRuntime, 'gvisor');
  });

  it('rejects both stock names as reserved, with moby wording', () => {
    const msg = problems({ runtimes: { runc: { path: '/x' }, 'io.containerd.runc.v2': { path: '/y' } } });
    assert.match(msg, /runtime name 'runc' is reserved/);
    assert.match(msg, /runtime name 'io.containerd.runc.v2' is reserved/);
  });

  it('suggests runtimeArgs for args and runtimeType for runtime_type', () => {
    const msg = problems({ runtimes: { nv: { path: '/x', args: ['--debug'] }, k: { runtime_type: 'a.b' } } });
    assert.match(msg, /runtime nv: unknown key "args" \(did you mean "runtimeArgs"\?\)/);
    assert.match(msg, /runtime k: unknown key "runtime_type" \(did you mean "runtimeType"\?\)/);
  });

  it('reports the path/runtimeType/options/args combinations with moby messages', () => {
    const msg = problems({
      runtimes: {
        none: {},
        both: { path: '/x', runtimeType: 'a.b' },
        opts: { path: '/x', options: {} },
        args: { runtimeType: 'a.b', runtimeArgs: ['-x'] },
      },
    });
    assert.match(msg, /runtime none: either a runtimeType or a path must be configured/);
    assert.match(msg, /runtime both: cannot configure both path and runtimeType for the same runtime/);
    assert.match(msg, /runtime opts: options cannot be used with a path runtime/);
    assert.match(msg, /runtime args: args cannot be used with a runtimeType runtime/);
  });

  it('rejects names that could be read as paths or flags', () => {
    const msg = problems({
      runtimes: { '../x': { path: '/x' }, '-v': { path: '/x' }, [`${'a'.repeat(64)}`]: { path: '/x' } },
    });
    assert.match(msg, /invalid runtime name "..\/x": it contains "\/"/);
    assert.match(msg, /invalid runtime name "-v": it starts with "-"/);
    assert.match(msg, /longer than 63 characters/);
  });

  it('rejects a relative path with a slash and a non-shim runtimeType', () => {
    const msg = problems({ runtimes: { a: { path: 'bin/crun' }, b: { runtimeType: 'kata' } } });
    assert.match(msg, /runtime a: path "bin\/crun" must be absolute or a command name/);
    assert.match(msg, /runtime b: runtimeType "kata" is not a containerd shim type/);
  });

  it('requires the default runtime to exist and lists what is configured', () => {
    const msg = problems({ runtimes: { crun: { path: '/usr/bin/crun' } }, defaultRuntime: 'nvidia' });
    assert.equal(
      msg,
      "specified default runtime 'nvidia' does not exist (configured: crun, runc, io.containerd.runc.v2)",
    );
  });

  it('merges --add-runtime (names lower-cased) and rejects duplicates and bad flags', () => {
    const c = parseRuntimesConfig({ addRuntime: ['CRUN=/usr/bin/crun'], defaultRuntimeFlag: 'crun' });
    assert.deepEqual(c.runtimes.crun, { path: '/usr/bin/crun', runtimeArgs: [] });
    assert.equal(c.defaultRuntime, 'crun');
    const msg = problems({
      runtimes: { crun: { path: '/a' } },
      addRuntime: ['crun=/b', 'nopath', 'runc=/c'],
    });
    assert.match(msg, /runtime 'crun' was already defined/);
    assert.match(msg, /invalid runtime argument: nopath/);
    assert.match(msg, /runtime name 'runc' is reserved/);
  });

  it('refuses different defaults from flag and file', () => {
    assert.match(
      problems({ defaultRuntime: 'runc', defaultRuntimeFlag: 'io.containerd.runc.v2' }),
      /specified both as a flag and in the configuration file: default-runtime/,
    );
  });

  it('reports every problem at once, one per line', () => {
    const msg = problems({ runtimes: { a: 1, b: { path: '' } }, defaultRuntime: 'zz' });
    assert.equal(msg.split('\n').length, 3, msg);
  });
});

describe('io.containerd.runc.v2 options', () => {
  it('accepts BinaryName, SystemdCgroup and NoPivotRoot', () => {
    const c = parseRuntimesConfig({
      runtimes: {
        sd: { runtimeType: 'io.containerd.runc.v2', options: { BinaryName: 'crun', SystemdCgroup: true } },
      },
    });
    assert.deepEqual(c.runtimes.sd, {
      runtimeType: 'io.containerd.runc.v2',
      options: { BinaryName: 'crun', SystemdCgroup: true },
    });
  });

  it('rejects misspelled, shim-only and mistyped options', () => {
    const msg = problems({
      runtimes: {
        sd: {
          runtimeType: 'io.containerd.runc.v2',
          options: { systemdcgroup: true, ShimCgroup: '/x', NoPivotRoot: 'yes' },
        },
      },
    });
    assert.match(msg, /option "systemdcgroup" is unknown \(did you mean "SystemdCgroup"\?\)/);
    assert.match(msg, /option "ShimCgroup" is a containerd shim option/);
    assert.match(msg, /option NoPivotRoot must be a boolean, got "yes"/);
  });
});
