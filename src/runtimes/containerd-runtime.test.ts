import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRuntimesConfig } from './config.ts';
import { containerdRuntimeOf } from './containerd-runtime.ts';
import { resolveRuntimes } from './resolve.ts';

const wrapperDir = mkdtempSync(join(tmpdir(), 'berth-crt-'));
after(() => rmSync(wrapperDir, { recursive: true, force: true }));
const host = { execRoot: '/run/berth', wrapperDir, noPivotRoot: false, pathEnv: process.env.PATH ?? '' };

function resolved(runtimes: Record<string, unknown>) {
  const config = parseRuntimesConfig({ runtimes });
  return new Map(resolveRuntimes(config, host).map((rt) => [rt.name, containerdRuntimeOf(rt)]));
}

describe('containerdRuntimeOf()', () => {
  const m = resolved({
    crunny: { path: '/usr/bin/crun' },
    gvisor: { path: '/usr/bin/runsc', runtimeArgs: ['--network=none'] },
    'runc-systemd': {
      runtimeType: 'io.containerd.runc.v2',
      options: { BinaryName: '/usr/bin/runc', SystemdCgroup: true },
    },
    kata: { runtimeType: 'io.containerd.kata.v2', options: { ConfigPath: '/etc/kata/configuration.toml' } },
    plain: { runtimeType: 'io.containerd.wasm.v1' },
  });

  it('runs path runtimes under the runc v2 shim with their binary (or wrapper), own Root and flags', () => {
    const runc = m.get('runc');
    assert.deepEqual(
      [runc?.binary, runc?.name, runc?.options?.type],
      ['containerd-shim-runc-v2', 'io.containerd.runc.v2', 'runc'],
    );
    assert.match(String(runc?.options?.fields.binary_name), /\/runc$/); // the binary found on PATH
    assert.deepEqual(
      { ...runc?.options?.fields, binary_name: 'runc' },
      { binary_name: 'runc', root: '/run/berth/runtime-runc', systemd_cgroup: false, no_pivot_root: false },
    );
    assert.equal(m.get('crunny')?.options?.fields.binary_name, '/usr/bin/crun');
    assert.equal(m.get('crunny')?.options?.fields.root, '/run/berth/runtime-crunny');
    assert.ok(String(m.get('gvisor')?.options?.fields.binary_name).startsWith(join(wrapperDir, 'gvisor.'))); // runtimeArgs
  });

  it('gives the runc shim type its own Root as well, and passes other runtimeTypes through with runtimeoptions', () => {
    assert.deepEqual(m.get('runc-systemd'), {
      binary: 'containerd-shim-runc-v2',
      name: 'io.containerd.runc.v2',
      options: {
        type: 'runc',
        fields: {
          binary_name: '/usr/bin/runc',
          root: '/run/berth/runtime-runc-systemd',
          systemd_cgroup: true,
          no_pivot_root: false,
        },
      },
    });
    assert.deepEqual(m.get('kata'), {
      binary: 'containerd-shim-kata-v2',
      name: 'io.containerd.kata.v2',
      options: { type: 'runtimeoptions', fields: { config_path: '/etc/kata/configuration.toml' } },
    });
    assert.deepEqual(m.get('plain'), { binary: 'containerd-shim-wasm-v1', name: 'io.containerd.wasm.v1' });
  });
});
