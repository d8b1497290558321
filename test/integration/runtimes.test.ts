/**
 * The runtime registry and executor end to end: a real berthd with runc, gVisor (runsc through a wrapper with
 * args) and crun, driven by the berth CLI, the docker CLI and raw HTTP. Needs root, runc, runsc, crun and
 * busybox-static (scripts/setup.sh installs them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RuntimeView } from '../../src/api/index.ts';
import { API_VERSION } from '../../src/api/index.ts';
import { berth, busyboxRootfs, runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { runcList } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const GVISOR_ARGS = ['--platform=ptrace', '--ignore-cgroups', '--network=none'];
const BASE_CONFIG = {
  runtimes: {
    crun: { path: 'crun' },
    gvisor: { path: 'runsc', runtimeArgs: GVISOR_ARGS },
    kata: { runtimeType: 'io.containerd.kata.v2' },
  },
};
/** crun 1.8 refuses hybrid cgroup hosts (v1 controllers plus a v2 mount), which is what this machine kind has. */
const hybridCgroups =
  existsSync('/sys/fs/cgroup/unified') && !existsSync('/sys/fs/cgroup/cgroup.controllers');

function http(
  socket: string,
  method: string,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => {
        body += b.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('berthd runtimes', { skip }, () => {
  let d: TestDaemon;
  let rootfs: string;
  const cli = (...args: string[]) => runBerth(d.host, args);

  before(async () => {
    d = testDaemon('berth-rt');
    rootfs = busyboxRootfs(d.dir);
    d.writeConfig(BASE_CONFIG);
    await d.start();
  });
  after(() => d.cleanup());

  it('lists every runtime with its health; crun shows its own message and the daemon stays up', async () => {
    const r = await cli('runtime', 'ls', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as RuntimeView[];
    const by = new Map(list.map((v) => [v.Name, v]));
    assert.deepEqual([...by.keys()], ['runc', 'io.containerd.runc.v2', 'crun', 'gvisor', 'kata']);
    assert.equal(by.get('runc')?.Status.Health, 'ok');
    assert.equal(by.get('runc')?.Default, true);
    assert.match(by.get('runc')?.Status.Version ?? '', /^runc version 1\./);
    assert.equal(by.get('runc')?.Root, join(d.execRoot, 'runtime-runc'));
    assert.equal(by.get('io.containerd.runc.v2')?.Root, join(d.execRoot, 'runtime-io.containerd.runc.v2'));
    assert.equal(typeof by.get('runc')?.Status.Features?.ociVersionMax, 'string');
    assert.equal(by.get('gvisor')?.Status.Health, 'ok', by.get('gvisor')?.Status.Reason);
    assert.equal(by.get('gvisor')?.Status.Features, null); // runsc has no features command: tolerated
    assert.match(by.get('gvisor')?.Wrapper ?? '', /\/runtimes\/gvisor\.[0-9a-f]{64}$/);
    if (hybridCgroups) {
      assert.equal(by.get('crun')?.Status.Health, 'unavailable');
      assert.equal(
        by.get('crun')?.Status.Reason,
        'smoke test failed: cgroups in hybrid mode not supported, drop all controllers from cgroupv2',
      );
    }
    assert.equal(by.get('kata')?.Status.Health, 'unavailable');
    assert.match(by.get('kata')?.Status.Reason ?? '', /"containerd-shim-kata-v2" not found in PATH/);
    const table = await cli('runtime', 'ls');
    assert.match(table.stdout, /^NAME\s+KIND\s+HEALTH\s+VERSION\s+COMMAND\s+SHIM\s+REASON\n/);
    assert.match(table.stdout, /\nrunc \*\s+runc\s+ok\s+runc version/);
  });

  it('runs a command with runc: output streams split, exit code passed through', async () => {
    const r = await cli('run', '--rootfs', rootfs, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  });

  it("runs Docker's default spec: namespaces, capabilities and env as docker run", async () => {
    const r = await cli(
      'run',
      '--rootfs',
      rootfs,
      '-e',
      'GREETING=hi there',
      'sh',
      '-c',
      'echo "$GREETING|$PATH|$(id -u)|$$"; grep CapEff /proc/self/status',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^hi there\|\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin\|0\|1\n/,
    );
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
  });

  it('runs through the gVisor wrapper: args reach runsc, argv round-trips through "$@" into a path with spaces', async () => {
    const cases = ['/var/log/my runtime.log', '--x=$(id -u)', '--semi;echo INJECTED', '', '*'];
    const r = await cli(
      'run',
      '--runtime',
      'gvisor',
      '--rootfs',
      rootfs,
      '--',
      'sh',
      '-c',
      'dmesg | head -1; for a in "$@"; do echo "[$a]"; done; exit 7',
      'sh',
      ...cases,
    );
    assert.equal(r.code, 7, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /Starting gVisor/);
    assert.deepEqual(
      lines.slice(1),
      cases.map((c) => `[${c}]`),
    );
  });

  it('refuses unknown names listing the configured ones, and shims and unavailable runtimes clearly', async () => {
    const unknown = await cli('run', '--runtime', 'nvidia', '--rootfs', rootfs, 'true');
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'berth: unknown or invalid runtime name: nvidia (configured: runc, io.containerd.runc.v2, crun, gvisor, kata)\n',
    );
    const path = await cli('run', '--runtime', '/usr/bin/runc', '--rootfs', rootfs, 'true');
    assert.match(path.stderr, /unknown or invalid runtime name: \/usr\/bin\/runc/);
    const shim = await cli('run', '--runtime', 'kata', '--rootfs', rootfs, 'true');
    assert.match(shim.stderr, /runtime kata is a containerd shim \(containerd-shim-kata-v2\)/);
    if (hybridCgroups) {
      const crun = await cli('run', '--runtime', 'crun', '--rootfs', rootfs, 'true');
      assert.match(crun.stderr, /runtime crun is unavailable: smoke test failed: cgroups in hybrid mode/);
    }
    const status = await http(d.socket, 'POST', '/v1.41/runs');
    assert.equal(status.status, 400);
    assert.equal(status.type, 'application/json');
  });

  it("speaks the Engine API's framing: versions, ping, errors, 501 for what berth does not serve", async () => {
    const ping = await http(d.socket, 'GET', '/_ping');
    assert.deepEqual([ping.status, ping.body], [200, 'OK']);
    const tooNew = await http(d.socket, 'GET', '/v1.99/info');
    assert.equal(tooNew.status, 400);
    assert.deepEqual(JSON.parse(tooNew.body), {
      message: `client version 1.99 is too new. Maximum supported API version is ${API_VERSION}`,
    });
    const containers = await http(d.socket, 'GET', '/v1.41/containers/json');
    assert.equal(containers.status, 501);
    assert.equal(containers.type, 'application/json');
    assert.match(JSON.parse(containers.body).message, /berth does not implement \/containers/);
    const missing = await http(d.socket, 'GET', '/v1.41/runtimes/nope');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).message, /^no such runtime: nope \(configured: runc, /);
    const info = JSON.parse((await http(d.socket, 'GET', '/v1.41/info')).body);
    assert.equal(info.DefaultRuntime, 'runc');
    assert.deepEqual(info.Runtimes.gvisor.runtimeArgs, GVISOR_ARGS);
    assert.equal(info.Runtimes.gvisor.status['berth.health'], 'ok');
    assert.equal(
      typeof JSON.parse(info.Runtimes.runc.status['org.opencontainers.runtime-spec.features']),
      'object',
    );
    assert.deepEqual(info.Runtimes.kata.runtimeType, 'io.containerd.kata.v2');
  });

  it('answers the real docker CLI: docker info shows the runtimes and the default', () => {
    const r = spawnSync(
      'docker',
      ['-H', d.host, 'info', '--format', '{{json .Runtimes}}|{{.DefaultRuntime}}'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const [runtimes, def] = r.stdout.trim().split('|');
    assert.deepEqual(Object.keys(JSON.parse(runtimes ?? '{}')).sort(), [
      'crun',
      'gvisor',
      'io.containerd.runc.v2',
      'kata',
      'runc',
    ]);
    assert.equal(def, 'runc');
  });

  it('re-probes on demand: runtime check NAME exits 1 when unavailable', async () => {
    const ok = await cli('runtime', 'check', 'gvisor');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\ngvisor\s+runc\s+ok/);
    const bad = await cli('runtime', 'check', 'kata');
    assert.equal(bad.code, 1);
  });

  it('reloads from the CLI: waits, prints the diff, keeps the old set on a bad file', async () => {
    d.writeConfig({
      runtimes: {
        gvisor: { path: 'runsc', runtimeArgs: [...GVISOR_ARGS, '--debug'] },
        runc2: { path: '/usr/sbin/runc' },
      },
      'default-runtime': 'runc2',
    });
    const r = await cli('runtime', 'reload');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'added: runc2\nremoved: crun\nremoved: kata\nchanged: gvisor\ndefault runtime: runc -> runc2\n',
    );
    d.writeConfig({ runtimes: { x: { path: 'runc', args: ['--debug'] } } });
    const bad = await cli('runtime', 'reload');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /runtime x: unknown key "args" \(did you mean "runtimeArgs"\?\)/);
    const after = JSON.parse((await cli('runtime', 'ls', '--format', 'json')).stdout) as RuntimeView[];
    assert.deepEqual(
      after.map((v) => v.Name),
      ['runc', 'io.containerd.runc.v2', 'gvisor', 'runc2'],
    );
    assert.equal(after.find((v) => v.Default)?.Name, 'runc2');
  });

  it('reloads on SIGHUP', async () => {
    d.writeConfig({ runtimes: { hup: { path: 'runc' } } });
    d.process.kill('SIGHUP');
    await waitFor(() => /"added":\["hup"\]/.test(d.log()), 15_000, 'SIGHUP reload');
    const r = await cli('runtime', 'inspect', 'hup');
    assert.equal((JSON.parse(r.stdout) as RuntimeView[])[0]?.Status.Health, 'ok');
    const events = await cli(
      'events',
      '--since',
      '0',
      '--until',
      String(Date.now() / 1000),
      '-f',
      'type=daemon',
      '--format',
      'json',
    );
    const last = JSON.parse(events.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.equal(last.Action, 'reload');
    assert.match(last.Actor.Attributes.runtimes, /(^| )hup:runc( |$)/);
    assert.equal(last.Actor.Attributes['default-runtime'], 'runc');
  });

  it('keeps running containers and concurrent starts working through reloads', async () => {
    d.writeConfig({ runtimes: { gv: { path: 'runsc', runtimeArgs: GVISOR_ARGS } } });
    assert.equal((await cli('runtime', 'reload')).code, 0);
    // A long run on gv, then reloads that change gv's args and finally remove it.
    const long = berth(d.host, [
      'run',
      '--runtime',
      'gv',
      '--rootfs',
      rootfs,
      'sh',
      '-c',
      'sleep 1; echo survived',
    ]);
    const starts = Array.from({ length: 6 }, (_, i) =>
      runBerth(d.host, [
        'run',
        '--runtime',
        i % 2 ? 'gv' : 'runc',
        '--rootfs',
        rootfs,
        'sh',
        '-c',
        `echo run${i}`,
      ]),
    );
    d.writeConfig({ runtimes: { gv: { path: 'runsc', runtimeArgs: [...GVISOR_ARGS, '--debug'] } } });
    const reload1 = runBerth(d.host, ['runtime', 'reload']);
    const results = await Promise.all(starts);
    assert.deepEqual(
      results.map((r) => [r.code, r.stdout, r.stderr]),
      results.map((_, i) => [0, `run${i}\n`, '']),
    );
    assert.equal((await reload1).code, 0);
    d.writeConfig({ runtimes: {} });
    assert.match((await cli('runtime', 'reload')).stdout, /removed: gv/);
    const longResult = await long.done;
    assert.deepEqual([longResult.code, longResult.stdout], [0, 'survived\n'], longResult.stderr);
  });

  it('kills the container when the client goes away (Ctrl-C)', async () => {
    const run = berth(d.host, ['run', '--rootfs', rootfs, 'sleep', '60']);
    const root = join(d.execRoot, 'runtime-runc');
    await waitFor(() => runcList(root).length === 1, 15_000, 'the container to run');
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130);
    await waitFor(() => runcList(root).length === 0, 10_000, 'the container to be gone');
    await waitFor(
      () => readdirSync(join(d.execRoot, 'runs')).length === 0,
      10_000,
      'the bundle to be removed',
    );
  });

  it('refuses a second berthd on the same pid file or the same data root', async () => {
    const second = testDaemon('berth-rt2');
    try {
      await assert.rejects(
        second.start(['--pidfile', d.pidfile]),
        /pid file found, ensure berthd is not running/,
      );
      await assert.rejects(
        second.start(['--data-root', d.dataRoot]),
        /pid file found, ensure berthd is not running or delete .*data root\/berthd.pid/,
      );
    } finally {
      await second.cleanup();
    }
  });

  it('after kill -9 of berthd, a restart removes its orphaned containers', async () => {
    const run = berth(d.host, ['run', '--rootfs', rootfs, 'sleep', '60']);
    const root = join(d.execRoot, 'runtime-runc');
    await waitFor(() => runcList(root).length === 1, 15_000, 'the container to run');
    await d.stop('SIGKILL');
    await run.done;
    assert.equal(runcList(root).length, 1, 'the orphan is still there before the restart');
    await d.start();
    assert.deepEqual(runcList(root), []);
    assert.match(d.log(), /removed containers left by a previous berthd/);
    const runs = join(d.execRoot, 'runs');
    assert.ok(!existsSync(runs) || readdirSync(runs).length === 0, 'no bundle left');
  });

  it('kill -9 during a reload leaves a usable state: restart works, no temp or partial wrapper scripts', async () => {
    for (let i = 0; i < 2; i++) {
      d.writeConfig({
        runtimes: Object.fromEntries(
          Array.from({ length: 12 }, (_, n) => [
            `w${n}`,
            { path: 'runsc', runtimeArgs: [...GVISOR_ARGS, `--debug-log=/tmp/${i}-${n}`] },
          ]),
        ),
      });
      d.process.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 30 + i * 40));
      await d.stop('SIGKILL');
      await d.start();
      const wrappers = readdirSync(join(d.dataRoot, 'runtimes'));
      assert.ok(
        wrappers.every((w) => /^w\d+\.[0-9a-f]{64}$/.test(w)),
        wrappers.join(' '),
      );
      assert.equal(wrappers.length, 12);
      const r = await cli('run', '--runtime', 'w7', '--rootfs', rootfs, 'echo', 'ok');
      assert.deepEqual([r.code, r.stdout], [0, 'ok\n'], r.stderr);
    }
  });
});
