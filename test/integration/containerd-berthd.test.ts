/**
 * berthd with `--containerd`: plugins and runs go through a private containerd 1.6 as labelled containers + tasks in
 * berth's namespace; a shim runtime (`io.containerd.runc.v1`, a different shim) runs plugins; a missing shim is
 * named; disable leaves nothing in containerd; runsc runs `berth run` workloads through the runc v2 shim (a
 * wrapper BinaryName), and refuses plugins (their socket mount is rshared).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { ContainerdClient } from '../../src/containerd/index.ts';
import { busyboxRootfs, runBerth, type TestDaemon, testDaemon } from './berthd.ts';
import { type PrivateContainerd, skipUnlessContainerd, startContainerd } from './cri.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers() || skipUnlessContainerd();
const noRunsc =
  process.env.CI !== 'true' &&
  spawnSync('runsc', ['--version']).status !== 0 &&
  'runsc is not installed (setup.sh)';

/**
 * A `runc init` blocked on its exec FIFO with its state dir `<root>/<id>`, reparented to pid 1 (`runc create`
 * exits): what a shim that died mid create leaves. `gone`: its state dir removed too, as the dead shim's cleanup
 * (`runc delete --force` without a state.json) does. Returns its pid.
 */
function blockedInit(bundle: string, root: string, id: string, o: { gone: boolean }): number {
  sleepBundle(bundle);
  execFileSync('runc', ['--root', root, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
  const pid = JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' }))
    .pid as number;
  if (o.gone) rmSync(join(root, id), { recursive: true, force: true });
  return pid;
}

/** A busybox bundle at `bundle` whose process sleeps (made once); its spec. */
function sleepBundle(bundle: string): { root: { path: string } } {
  if (!existsSync(join(bundle, 'config.json'))) {
    busyboxRootfs(bundle);
    execFileSync('runc', ['spec', '--bundle', bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process = { ...spec.process, terminal: false, args: ['/bin/sleep', '1000'] };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  }
  return JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
}

/** The process runs (a zombie not yet reaped does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

describe('berthd --containerd (private containerd 1.6)', { skip }, () => {
  let d: TestDaemon;
  let ctrd: PrivateContainerd;
  let ctx: string;
  const ns = `berth-it-${process.pid}`;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ctr = (...args: string[]) =>
    execFileSync('ctr', ['--address', ctrd.socket, '-n', ns, ...args], { encoding: 'utf8' });
  const containers = () => ctr('containers', 'ls', '-q').split('\n').filter(Boolean);

  const ctrdArgs = () => ['--containerd', `unix://${ctrd.socket}`, '--containerd-namespace', ns];
  const inspect = () => JSON.parse(docker('plugin', 'inspect', 'ctrd/live').out)[0];
  const taskPid = (id: string) =>
    Number(new RegExp(`${id}\\s+(\\d+)\\s+RUNNING`).exec(ctr('tasks', 'ls'))?.[1] ?? 0);

  before(async () => {
    d = testDaemon('berth-ctrd');
    ctx = miniContext(d.dir);
    // A shim berth is never told about: a copy of the runc v2 shim under another name, on containerd's PATH.
    const bin = join(d.dir, 'bin');
    mkdirSync(bin);
    copyFileSync(
      execFileSync('sh', ['-c', 'command -v containerd-shim-runc-v2'], { encoding: 'utf8' }).trim(),
      join(bin, 'containerd-shim-berthtest-v1'),
    );
    chmodSync(join(bin, 'containerd-shim-berthtest-v1'), 0o755);
    process.env.PATH = `${bin}:${process.env.PATH}`;
    const config = join(d.dir, 'containerd.toml');
    writeFileSync(config, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n');
    ctrd = await startContainerd(join(d.dir, 'ctrd'), config);
    d.writeConfig({
      runtimes: {
        shimv1: { runtimeType: 'io.containerd.runc.v1' },
        nope: { runtimeType: 'io.containerd.nope.v1' },
      },
    });
    await d.start(ctrdArgs()); // with smoke tests: the shim runtimes get theirs through containerd
  });
  after(async () => {
    // berthd stops its plugins; containerd's leftovers go while it answers; only then cleanup's rm.
    if (d?.process) {
      const killer = setTimeout(() => d.process.kill('SIGKILL'), 20_000);
      await d.stop('SIGTERM');
      clearTimeout(killer);
    }
    await ctrd?.destroy();
    await d?.cleanup();
  });

  it('enables a plugin as a labelled containerd task and disables it without a trace', () => {
    assert.equal(docker('plugin', 'create', 'ctrd/mini', ctx).code, 0);
    const enable = docker('plugin', 'enable', 'ctrd/mini');
    assert.equal(enable.code, 0, `${enable.err}\n${d.log()}`);
    const id = JSON.parse(docker('plugin', 'inspect', 'ctrd/mini').out)[0].Id as string;
    assert.deepEqual(containers(), [id]);
    const info = JSON.parse(ctr('containers', 'info', id)) as {
      Labels: Record<string, string>;
      Runtime: { Name: string };
    };
    assert.equal(info.Labels['berth.kind'], 'plugin');
    assert.equal(info.Labels['berth.plugin.id'], id);
    assert.equal(info.Labels['berth.owner'], d.dataRoot);
    assert.equal(info.Runtime.Name, 'io.containerd.runc.v2');
    assert.match(ctr('tasks', 'ls'), new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    assert.equal(docker('plugin', 'disable', 'ctrd/mini').code, 0);
    assert.deepEqual(containers(), []);
  });

  it('smoke-tests shim runtimes through containerd: a real task with the shim, or the missing shim named', async () => {
    const views = JSON.parse((await runBerth(d.host, ['runtime', 'ls', '--format', 'json'])).stdout) as {
      Name: string;
      Status: { Health: string; Reason?: string; SmokeTest?: { ok: boolean } };
    }[];
    const by = new Map(views.map((v) => [v.Name, v.Status]));
    assert.deepEqual([by.get('shimv1')?.Health, by.get('shimv1')?.SmokeTest?.ok], ['ok', true]);
    assert.equal(by.get('nope')?.Health, 'unavailable');
    assert.match(by.get('nope')?.Reason ?? '', /containerd-shim-nope-v1/);
    assert.deepEqual(containers(), []); // the probe's container is gone
  });

  it('runs a plugin with a shim runtime given by runtimeType (io.containerd.runc.v1)', async () => {
    const create = await runBerth(d.host, ['plugin', 'create', '--runtime', 'shimv1', 'ctrd/v1', ctx]);
    assert.equal(create.code, 0, create.stderr);
    assert.equal(docker('plugin', 'enable', 'ctrd/v1').code, 0);
    const id = JSON.parse(docker('plugin', 'inspect', 'ctrd/v1').out)[0].Id as string;
    assert.equal(
      (JSON.parse(ctr('containers', 'info', id)) as { Runtime: { Name: string } }).Runtime.Name,
      'io.containerd.runc.v1',
    );
    assert.equal(docker('plugin', 'rm', '-f', 'ctrd/v1').code, 0);
    assert.deepEqual(containers(), []);
  });

  it('runs berth run workloads through containerd, and names a missing shim', async () => {
    const rootfs = busyboxRootfs(d.dir);
    const r = await runBerth(d.host, [
      'run',
      '--rootfs',
      rootfs,
      '--',
      'sh',
      '-c',
      'echo hi; echo oops >&2; exit 3',
    ]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'hi\n', 'oops\n']);
    const nope = await runBerth(d.host, ['run', '--runtime', 'nope', '--rootfs', rootfs, '--', 'true']);
    assert.notEqual(nope.code, 0);
    assert.match(nope.stderr, /containerd-shim-nope-v1/);
    // An unconfigured name containerd can resolve passes through verbatim (seed 004); a path-like one is refused.
    const passed = await runBerth(d.host, [
      'run',
      '--runtime',
      'io.containerd.berthtest.v1',
      '--rootfs',
      rootfs,
      '--',
      'sh',
      '-c',
      'exit 7',
    ]);
    assert.equal(passed.code, 7, passed.stderr);
    const pathLike = await runBerth(d.host, [
      'run',
      '--runtime',
      '/usr/sbin/runc',
      '--rootfs',
      rootfs,
      '--',
      'true',
    ]);
    assert.match(pathLike.stderr, /unknown or invalid runtime name/);
    assert.deepEqual(containers(), []);
    // berth's own fields: read raw (the docker CLI drops keys its Go struct lacks).
    const info = JSON.parse(
      execFileSync('curl', ['-s', '--unix-socket', d.socket, 'http://berth/v1.45/info'], {
        encoding: 'utf8',
      }),
    );
    assert.match(info.BerthExecutor, /^containerd .* \(namespace berth-it-\d+\)$/);
    assert.match(info.ContainerdCommit.ID, /\w/);
  });

  it('adopts running plugins after kill -9 of berthd and after a --live-restore stop: same pid, no second task', async () => {
    assert.equal(docker('plugin', 'create', 'ctrd/live', ctx).code, 0);
    assert.equal(docker('plugin', 'enable', 'ctrd/live').code, 0);
    const id = inspect().Id as string;
    const pid = taskPid(id);
    assert.ok(pid > 0);
    const update = await runBerth(d.host, ['plugin', 'update', '--health-interval', '100ms', 'ctrd/live']);
    assert.equal(update.code, 0, update.stderr);
    await d.stop('SIGKILL');
    assert.equal(taskPid(id), pid, 'the task outlives berthd');
    await d.start(ctrdArgs());
    assert.deepEqual([inspect().Status.State, taskPid(id), containers()], ['running', pid, [id]]);
    assert.match(d.log(), /plugin ctrd\/live:latest: adopted its running container/);
    // The health settings survived the kill -9, and the adopted task is probed with them.
    assert.equal(inspect().Status.Healthcheck.Interval, 100e6);
    for (let i = 0; i < 50 && inspect().Status.Health?.Status !== 'healthy'; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(inspect().Status.Health?.Status, 'healthy', JSON.stringify(inspect().Status));
    await d.stop('SIGTERM'); // without --live-restore: stopped
    assert.deepEqual(containers(), []);
    await d.start([...ctrdArgs(), '--live-restore']);
    const pid2 = taskPid(id);
    await d.stop('SIGTERM'); // with it: left running
    assert.equal(taskPid(id), pid2);
    await d.start([...ctrdArgs(), '--live-restore']);
    assert.deepEqual([inspect().Status.State, taskPid(id)], ['running', pid2]);
  });

  it('kills at start the runc inits a shim that died mid create left under its runc root, and nothing else', async () => {
    const bundle = join(d.dir, 'blocked');
    const root = join(d.execRoot, 'runtime-runc');
    // Its state dir removed (by the dead shim's cleanup), or left whole (runc create got to state.json).
    const gone = blockedInit(bundle, join(root, ns), 'orphan-gone', { gone: true });
    const kept = blockedInit(bundle, join(root, ns), 'orphan-kept', { gone: false });
    // The same under a namespace that is not berthd's: not its to kill.
    const other = blockedInit(bundle, join(root, 'elsewhere'), 'other', { gone: false });
    try {
      await d.stop('SIGKILL');
      await d.start(ctrdArgs());
      for (const [pid, id] of [
        [gone, 'orphan-gone'],
        [kept, 'orphan-kept'],
      ] as const) {
        assert.ok(!alive(pid), `runc init ${pid} still runs:\n${d.log().slice(-2000)}`);
        assert.match(d.log(), new RegExp(`killed runc init ${pid} of container ${id}, which no shim runs`));
      }
      assert.ok(!existsSync(join(root, ns, 'orphan-kept')), 'its runc state (and cgroups) were deleted');
      assert.ok(alive(other), 'the runc init of another namespace was killed');
      assert.equal(inspect().Status.State, 'running', 'the adopted plugin runs on');
    } finally {
      spawnSync('runc', ['--root', join(root, 'elsewhere'), 'delete', '--force', 'other']);
      spawnSync('runc', ['--root', join(root, ns), 'delete', '--force', 'orphan-kept']);
      for (const pid of [gone, kept]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('removes what creates cut by a kill left (a task without its record, a forgotten shim), and enables over it', async () => {
    // A kill -9 with a create in flight: the next berthd's reconcile may delete the record before the task is
    // there; or containerd's cleanup of the cut create forgets the shim and leaves its bundle directory.
    const client = new ContainerdClient(ctrd.socket, ns);
    const bundle = join(d.dir, 'blocked');
    const spec = sleepBundle(bundle);
    spec.root.path = join(bundle, 'rootfs');
    const staleTask = async (id: string) => {
      await client.createContainer({ id, labels: {}, runtime: { name: 'io.containerd.runc.v2' }, spec });
      await client.createTask(id, { stdout: '', stderr: '' });
      await client.deleteContainer(id);
    };
    const tasks = async () => (await client.listTasks()).map((t) => t.id);
    try {
      assert.equal(docker('plugin', 'create', 'ctrd/stale', ctx).code, 0);
      const id = JSON.parse(docker('plugin', 'inspect', 'ctrd/stale').out)[0].Id as string;
      await staleTask(id);
      await staleTask('stale-other');
      const enable = docker('plugin', 'enable', 'ctrd/stale');
      assert.equal(enable.code, 0, enable.err);
      assert.ok(taskPid(id) > 0, 'the plugin runs as a new task of that id');
      assert.equal(docker('plugin', 'disable', 'ctrd/stale').code, 0);
      // The forgotten shim's bundle directory in the way of the next create, and a forgotten shim (a stand-in
      // process named and flagged as one) of another id.
      const leftBundle = join(d.dir, 'ctrd', 'state', 'io.containerd.runtime.v2.task', ns, id);
      mkdirSync(join(leftBundle, 'rootfs'), { recursive: true });
      writeFileSync(join(leftBundle, 'log'), '');
      const shim = spawn('perl', ['-e', 'sleep 600', '--', '-namespace', ns, '-id', 'leaked'], {
        argv0: 'containerd-shim-runc-v2',
        stdio: 'ignore',
      });
      const again = docker('plugin', 'enable', 'ctrd/stale');
      assert.equal(again.code, 0, again.err);
      await d.stop('SIGKILL');
      await d.start(ctrdArgs());
      assert.ok(!(await tasks()).includes('stale-other'), `left: ${await tasks()}\n${d.log().slice(-2000)}`);
      assert.match(d.log(), /removed task stale-other, whose container record went while it was created/);
      assert.match(d.log(), /killed the shim of leaked, which containerd no longer knows/);
      if (shim.exitCode === null && shim.signalCode === null) await new Promise((r) => shim.once('exit', r));
      assert.equal(shim.signalCode, 'SIGKILL');
      assert.equal(docker('plugin', 'rm', '-f', 'ctrd/stale').code, 0);
      assert.ok(!(await tasks()).includes(id));
    } finally {
      client.close();
    }
  });

  it('survives a containerd restart: the exit watch comes back, a crash afterwards is seen and restarted', async () => {
    const id = inspect().Id as string;
    const pid = taskPid(id);
    await ctrd.stop();
    ctrd = await startContainerd(join(d.dir, 'ctrd'), join(d.dir, 'containerd.toml'));
    assert.equal(taskPid(id), pid, 'the task outlives containerd');
    assert.equal(inspect().Status.State, 'running');
    ctr('tasks', 'kill', '-s', 'SIGKILL', id);
    const deadline = Date.now() + 20_000;
    while (!(taskPid(id) > 0 && taskPid(id) !== pid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(taskPid(id), pid);
    assert.ok(taskPid(id) > 0, `restarted after the crash:\n${d.log().slice(-2000)}`);
    assert.equal(inspect().Status.Restarts, 1);
    assert.equal(docker('plugin', 'rm', '-f', 'ctrd/live').code, 0);
    assert.deepEqual(containers(), []);
  });

  it('answers 503 with the reason while containerd is down, keeps /_ping and runtime views, and recovers', async () => {
    assert.equal(docker('plugin', 'create', 'ctrd/down', ctx).code, 0);
    await ctrd.stop();
    try {
      const enable = docker('plugin', 'enable', 'ctrd/down');
      assert.notEqual(enable.code, 0);
      assert.match(enable.err, /containerd at .* does not answer/);
      const run = await runBerth(d.host, [
        'run',
        '--rootfs',
        busyboxRootfs(join(d.dir, 'down')),
        '--',
        'true',
      ]);
      assert.match(run.stderr, /containerd at .* does not answer/);
      const status = (path: string) =>
        execFileSync(
          'curl',
          ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.socket, `http://berth${path}`],
          {
            encoding: 'utf8',
          },
        );
      assert.equal(status('/v1.45/plugins/ctrd/down/enable'.replace('/enable', '/json')), '200');
      assert.equal(status('/_ping'), '200');
      const ls = await runBerth(d.host, ['runtime', 'ls']);
      assert.match(ls.stdout, /\nrunc \*\s+runc\s+ok.*containerd-shim-runc-v2/);
      assert.match(ls.stdout, /\nshimv1\s+shim\s+.*containerd-shim-runc-v1/);
    } finally {
      ctrd = await startContainerd(join(d.dir, 'ctrd'), join(d.dir, 'containerd.toml'));
    }
    const again = docker('plugin', 'enable', 'ctrd/down');
    assert.equal(again.code, 0, again.err);
    assert.equal(docker('plugin', 'rm', '-f', 'ctrd/down').code, 0);
    assert.deepEqual(containers(), []);
  });
  it('runs berth run workloads under runsc through io.containerd.runc.v2 (wrapper BinaryName); runsc refuses plugins', {
    skip: noRunsc,
  }, async () => {
    // Added last and by reload: every earlier berthd start would smoke-test runsc too.
    d.writeConfig({
      runtimes: {
        shimv1: { runtimeType: 'io.containerd.runc.v1' },
        nope: { runtimeType: 'io.containerd.nope.v1' },
        gvisor: { path: 'runsc', runtimeArgs: ['--network=none'] }, // runsc refuses the root network namespace
      },
    });
    assert.equal((await runBerth(d.host, ['runtime', 'reload'])).code, 0);
    const rootfs = busyboxRootfs(join(d.dir, 'gvisor'));
    const r = await runBerth(d.host, [
      'run',
      '--runtime',
      'gvisor',
      '--rootfs',
      rootfs,
      '--',
      'sh',
      '-c',
      'echo hi; exit 3',
    ]);
    assert.deepEqual([r.code, r.stdout], [3, 'hi\n'], r.stderr); // the exit is seen (unlike under CRI)
    // A managed plugin's spec binds /run/docker/plugins rshared (as moby's does): gVisor has no shared propagation.
    assert.equal(
      (await runBerth(d.host, ['plugin', 'create', '--runtime', 'gvisor', 'ctrd/gv', ctx])).code,
      0,
    );
    const enable = docker('plugin', 'enable', 'ctrd/gv');
    assert.notEqual(enable.code, 0);
    assert.match(enable.err, /mount option "rshared" is not supported/);
    assert.equal(docker('plugin', 'rm', 'ctrd/gv').code, 0);
    assert.deepEqual(containers(), []);
  });
});
