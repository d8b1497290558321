/**
 * The examples, built with `berth plugin build` and pushed through a real registry, installed from it into berthd
 * and into the reference dockerd (moby 20.10, Debian's docker.io), work in both: the SDK volume driver serves
 * volume create and a dockerd container writing into its volume; the SDK authorization plugin denies
 * `DELETE /volumes/…` in both. SDK log, IPAM and network drivers (test/fixtures/plugins/sdk-*.ts) are checked
 * against dockerd too: docker logs through the LogEntry FIFO and ReadLogs, docker network create. Needs dockerd (`../shared/tools/reference-dockerd start` installs docker.io).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { busyboxRootfs, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessRegistry, startRegistry, type TestRegistry } from './registry.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BERTH = join(ROOT, 'bin/berth.js');
const noDockerd =
  spawnSync('dockerd', ['--version']).status === 0
    ? false
    : 'dockerd is not installed (reference comparison; ../shared/tools/reference-dockerd start installs docker.io)';
const skip = skipUnlessContainers() || skipUnlessRegistry() || noDockerd;

/** A private dockerd (the reference-dockerd tool's flags) on `dir`; `stop()` by pid. */
async function startDockerd(
  dir: string,
  extra: readonly string[] = [],
): Promise<{ host: string; stop(): Promise<void> }> {
  const sock = join(dir, 'docker.sock');
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(dir, 'docker.pid'),
      '--iptables=false',
      '--bridge=none',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const host = `unix://${sock}`;
  await waitFor(
    () => existsSync(sock) && spawnSync('docker', ['-H', host, 'version'], { stdio: 'ignore' }).status === 0,
    30_000,
    'dockerd',
  );
  return {
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Unmounts whatever dockerd left mounted under `dir` (deepest first), so removing it cannot reach a host path. */
function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p]);
}

const sh = (host: string, args: readonly string[]) =>
  spawnSync('docker', ['-H', host, ...args], { encoding: 'utf8' });

/** dockerd runs images only: a busybox-static rootfs imported as berth-test/busybox (once per data root). */
function importBusybox(host: string, dir: string): void {
  if (sh(host, ['image', 'inspect', 'berth-test/busybox']).status === 0) return;
  const rootfs = busyboxRootfs(join(dir, 'busybox'));
  const r = spawnSync('sh', [
    '-c',
    `tar -C '${rootfs}' -c . | docker -H ${host} import - berth-test/busybox`,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
}

function install(host: string, alias: string, remote: string): void {
  const r = sh(host, ['plugin', 'install', '--grant-all-permissions', '--alias', alias, remote]);
  assert.equal(r.status, 0, r.stderr);
}

describe('examples through a registry into berthd and the reference dockerd', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let refDir: string;
  let vol: string;
  let authz: string;
  const berth = (args: readonly string[]) => {
    const r = spawnSync(process.execPath, [BERTH, '-H', d.host, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `berth ${args.join(' ')}\n${r.stderr}`);
    return r;
  };

  before(async () => {
    d = testDaemon('berth-interop');
    refDir = mkdtempSync(join(tmpdir(), 'berth-refd-'));
    reg = await startRegistry(join(d.dir, 'registry'));
    d.writeConfig({ 'authorization-plugins': ['example/authz'] });
    await d.start(['--no-runtime-smoke-test']);
    vol = `${reg.domain}/example/local-volume:1.0`;
    authz = `${reg.domain}/example/authz-deny:1.0`;
    for (const [example, name] of [
      ['local-volume', vol],
      ['authz-deny', authz],
    ] as const) {
      berth([
        'plugin',
        'build',
        join(ROOT, 'examples', example),
        '-o',
        join(d.dir, example),
        '--name',
        name,
        '--push',
      ]);
      berth(['plugin', 'rm', name]);
    }
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
    if (refDir) {
      unmountUnder(refDir);
      rmSync(refDir, { recursive: true, force: true });
    }
  });

  it('berthd: installed from the registry, the volume driver creates volumes and authz denies DELETE /volumes/', () => {
    install(d.host, 'example/vol', vol);
    install(d.host, 'example/authz', authz);
    assert.equal(sh(d.host, ['volume', 'create', '-d', 'example/vol', 'v1']).status, 0);
    const mountpoint = JSON.parse(sh(d.host, ['volume', 'inspect', 'v1']).stdout)[0].Mountpoint;
    assert.ok(existsSync(mountpoint), mountpoint);
    const rm = sh(d.host, ['volume', 'rm', 'v1']);
    assert.notEqual(rm.status, 0);
    assert.match(
      rm.stderr,
      /authorization denied by plugin example\/authz: DELETE \/volumes\/v1 is denied by policy/,
    );
  });

  it('dockerd: installed from the registry, a container writes into a volume of the SDK driver', async () => {
    const ref = await startDockerd(refDir);
    try {
      install(ref.host, 'vol', vol);
      install(ref.host, 'authz', authz);
      importBusybox(ref.host, refDir);
      const create = sh(ref.host, ['volume', 'create', '-d', 'vol', 'v1']);
      assert.equal(create.status, 0, create.stderr);
      const run = sh(ref.host, [
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        'v1:/v',
        'berth-test/busybox',
        'sh',
        '-c',
        'echo written-by-dockerd > /v/f; cat /v/f',
      ]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'written-by-dockerd\n');
      // dockerd shows Get's path unscoped (plugins.md §5.4): inside the plugin. On the host it is under the
      // plugin's propagated mount.
      assert.equal(
        JSON.parse(sh(ref.host, ['volume', 'inspect', 'v1']).stdout)[0].Mountpoint,
        '/data/volumes/v1',
      );
      const id = sh(ref.host, ['plugin', 'inspect', '-f', '{{.Id}}', 'vol']).stdout.trim();
      const onHost = join(refDir, 'root/plugins', id, 'propagated-mount/volumes/v1/f');
      assert.equal(readFileSync(onHost, 'utf8'), 'written-by-dockerd\n');
      assert.deepEqual(sh(ref.host, ['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean), ['v1']);
    } finally {
      await ref.stop();
    }
  });

  it('dockerd: an SDK log driver receives the container output (LogEntry FIFO) and serves docker logs (ReadLogs)', async () => {
    const ctx = await packageNodePlugin({
      source: join(ROOT, 'test/fixtures/plugins/sdk-log.ts'),
      manifest: {
        Description: 'SDK log driver',
        Interface: { Types: ['docker.logdriver/1.0'], Socket: 'log.sock' },
      },
      outDir: join(d.dir, 'sdk-log'),
    });
    const ref = await startDockerd(refDir);
    try {
      importBusybox(ref.host, refDir);
      assert.equal(sh(ref.host, ['plugin', 'create', 'sdklog', ctx]).status, 0);
      assert.equal(sh(ref.host, ['plugin', 'enable', 'sdklog']).status, 0);
      const script = 'echo one; echo two >&2; echo three';
      const run = sh(ref.host, [
        'run',
        '--name',
        'c1',
        '--network',
        'none',
        '--log-driver',
        'sdklog',
        'berth-test/busybox',
        'sh',
        '-c',
        script,
      ]);
      assert.equal(run.status, 0, run.stderr);
      const logs = sh(ref.host, ['logs', 'c1']);
      assert.equal(logs.status, 0, logs.stderr);
      assert.equal(logs.stdout, 'one\nthree\n');
      assert.equal(logs.stderr, 'two\n');
      assert.equal(sh(ref.host, ['rm', 'c1']).status, 0);
    } finally {
      await ref.stop();
    }
  });

  it('dockerd: SDK IPAM and network drivers serve docker network create, inspect and rm', async () => {
    const ctx = await packageNodePlugin({
      source: join(ROOT, 'test/fixtures/plugins/sdk-net.ts'),
      manifest: {
        Description: 'SDK IPAM + network driver',
        Interface: { Types: ['docker.ipamdriver/1.0', 'docker.networkdriver/1.0'], Socket: 'net.sock' },
      },
      outDir: join(d.dir, 'sdk-net'),
    });
    const ref = await startDockerd(refDir);
    try {
      assert.equal(sh(ref.host, ['plugin', 'create', 'sdknet', ctx]).status, 0);
      assert.equal(sh(ref.host, ['plugin', 'enable', 'sdknet']).status, 0);
      // libnetwork resolves managed network/IPAM drivers only by their full name (with the tag).
      const create = sh(ref.host, [
        'network',
        'create',
        '-d',
        'sdknet:latest',
        '--ipam-driver',
        'sdknet:latest',
        'n1',
      ]);
      assert.equal(create.status, 0, create.stderr);
      const n = JSON.parse(sh(ref.host, ['network', 'inspect', 'n1']).stdout)[0];
      assert.equal(n.Driver, 'sdknet:latest');
      assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }]);
      const v6 = sh(ref.host, [
        'network',
        'create',
        '-d',
        'sdknet:latest',
        '--ipam-driver',
        'sdknet:latest',
        '--ipv6',
        'n6',
      ]);
      assert.notEqual(v6.status, 0);
      assert.match(v6.stderr, /this driver has no IPv6 pool/);
      assert.equal(sh(ref.host, ['network', 'rm', 'n1']).status, 0);
    } finally {
      await ref.stop();
    }
  });

  it('dockerd: with --authorization-plugin authz, the SDK plugin denies DELETE /volumes/ and allows the rest', async () => {
    const ref = await startDockerd(refDir, ['--authorization-plugin', 'authz']);
    try {
      await waitFor(
        () => sh(ref.host, ['volume', 'ls', '-q']).status === 0,
        15_000,
        'the authz plugin to be back',
      );
      const rm = sh(ref.host, ['volume', 'rm', 'v1']);
      assert.notEqual(rm.status, 0);
      assert.match(
        rm.stderr,
        /authorization denied by plugin authz:latest: DELETE \/volumes\/v1 is denied by policy \^DELETE \/volumes\//,
      );
      assert.match(sh(ref.host, ['volume', 'ls', '-q']).stdout, /^v1$/m);
    } finally {
      await ref.stop();
    }
  });
});
