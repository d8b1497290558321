/**
 * RuncExecutor with real runc: exit codes, log files, stop with a grace period, state, delete and reconcile.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ContainerOutput, globalArgs, type RuncCli, RuncExecutor } from '../../src/executor/index.ts';
import { containerSpec } from '../../src/oci/index.ts';
import { busyboxRootfs } from './berthd.ts';
import { makeBusyboxBundleDir, skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();

describe('RuncExecutor', { skip }, () => {
  let dir: string;
  let rootfs: string;
  let cleanup: () => void;
  let cli: RuncCli;
  const executor = new RuncExecutor();

  /** A bundle directory running `sh -c script`. */
  function bundle(name: string, script: string): string {
    const b = join(dir, name);
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify(containerSpec({ rootfs, args: ['sh', '-c', script], hostname: name })),
    );
    mkdirSync(b, { recursive: true });
    renameSync(join(dir, `${name}.json`), join(b, 'config.json'));
    return b;
  }

  /** Starts `sh -c script` as container `id` (bundle of the same name) and waits until the runtime says running. */
  async function running(rt: RuncCli, id: string, script: string, output: ContainerOutput = 'pipe') {
    const c = executor.start(rt, id, bundle(id, script), output);
    await waitRunning(executor, rt, id);
    return c;
  }

  before(() => {
    const made = makeBusyboxBundleDir('berth-exec');
    dir = made.dir;
    cleanup = made.cleanup;
    rootfs = busyboxRootfs(join(dir, 'img'));
    cli = { binary: 'runc', globalArgs: globalArgs({ root: join(dir, 'state') }), noPivot: false };
  });
  after(() => cleanup());

  it('runs a bundle, appends its output to the log file and reports the exit code', async () => {
    const log = join(dir, 'logs', 'a.log');
    const c = executor.start(cli, 'exec-a', bundle('a', 'echo to-stdout; echo to-stderr >&2; exit 42'), {
      logPath: log,
    });
    const status = await c.exited;
    assert.ok(c.runtimePid > 0, 'the runtime pid is known (through berth-spawner, a moment after start)');
    assert.equal(status.code, 42);
    // Both streams land in the one file; foreground runc copies each through its own pipe, so their relative
    // order is not guaranteed.
    assert.deepEqual(readFileSync(log, 'utf8').split('\n').sort(), ['', 'to-stderr', 'to-stdout']);
    assert.equal(executor.running().has('exec-a'), false);
  });

  it('refuses a second container with the same id while the first runs', async () => {
    const c = executor.start(cli, 'exec-dup', bundle('dup', 'sleep 30'), 'pipe');
    assert.throws(() => executor.start(cli, 'exec-dup', join(dir, 'dup'), 'pipe'), /already running/);
    await executor.stop(cli, 'exec-dup', 200); // pid 1 ignores TERM without a handler
    await c.exited;
  });

  it('stops with SIGTERM when the process honours it', async () => {
    const c = await running(cli, 'exec-term', 'trap "exit 0" TERM; while :; do sleep 0.1; done');
    const started = performance.now();
    const status = await executor.stop(cli, 'exec-term', 5000);
    assert.equal(status?.code, 0);
    assert.ok(performance.now() - started < 4000, 'did not wait for the grace period');
    await c.exited;
  });

  it('stops with SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const c = await running(cli, 'exec-kill', 'trap "" TERM; while :; do sleep 0.1; done');
    const started = performance.now();
    const status = await executor.stop(cli, 'exec-kill', 500);
    const ms = performance.now() - started;
    assert.equal(status?.code, 137);
    assert.ok(ms >= 450, `stopped after ${ms} ms, before the grace period`);
    await c.exited;
  });

  /** A runtime that appends each command it runs (`run`, `kill`, …) to `calls`, then is runc (`exec`) or its parent. */
  function loggingRuntime(name: string, calls: string, exec: boolean): RuncCli {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\necho "$@" >> '${calls}'\n${exec ? 'exec ' : ''}runc "$@"\n`, {
      mode: 0o755,
    });
    return { ...cli, binary: path, keep: true, forwardsSignals: true };
  }
  const commands = (calls: string, verb: string) =>
    readFileSync(calls, 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[2] === verb)
      .map((l) => l.split(' ').slice(2).join(' '));

  it('stops a runtime that forwards signals through its `run` process; SIGKILL still through `kill`', async () => {
    const calls = join(dir, 'forward-calls');
    const fwd = loggingRuntime('forwarding-runc', calls, true);
    const c = await running(fwd, 'exec-fwd', 'trap "exit 7" TERM; while :; do sleep 0.05; done');
    assert.equal((await executor.stop(fwd, 'exec-fwd', 5000))?.code, 7, 'the init got the SIGTERM');
    assert.deepEqual(commands(calls, 'kill'), [], 'no `runc kill` for it');
    await c.exited;
    const deaf = await running(fwd, 'exec-deaf', 'trap "" TERM; while :; do sleep 0.05; done');
    assert.equal((await executor.stop(fwd, 'exec-deaf', 300))?.code, 137);
    assert.deepEqual(commands(calls, 'kill'), ['kill exec-deaf SIGKILL']);
    await deaf.exited;
    assert.deepEqual(await executor.list(fwd), []);
    assert.deepEqual(
      [...processesNaming('exec-fwd'), ...processesNaming('exec-deaf')],
      [],
      'no process left',
    );
  });

  it('a runtime said to forward signals that does not (a shell left as its parent) leaves nothing running', async () => {
    const shell = loggingRuntime('shell-runc', join(dir, 'shell-calls'), false);
    // With a log file the shell's exit is seen at once and the kept container deleted with --force; with pipes
    // the orphaned `runc run` holds them until the grace period's SIGKILL (through `kill`) ends the container.
    for (const [id, output] of [
      ['exec-shell-log', { logPath: join(dir, 'logs', 'shell.log') }],
      ['exec-shell-pipe', 'pipe'],
    ] as const) {
      const c = await running(shell, id, 'while :; do sleep 0.05; done', output);
      const t = performance.now();
      const status = await executor.stop(shell, id, 300);
      assert.equal(status?.code, 143, `${id}: the status is the shell's, dead of the SIGTERM`);
      if (output === 'pipe')
        assert.ok(performance.now() - t >= 290, `${id}: ended by the grace period's SIGKILL`);
      await c.exited;
      assert.deepEqual(await executor.list(shell), [], `${id}: the container is gone`);
      assert.deepEqual(processesNaming(id), [], `${id}: no process of it is left`);
    }
  });

  it('with --keep reads OOM kills from the cgroup before deleting: an OOM is said, a plain SIGKILL is not', async () => {
    const keep = { ...cli, keep: true };
    const b = bundle('oom', 'x=a; while :; do x=$x$x; done');
    const spec = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    spec.linux.resources.memory = { limit: 16 << 20, swap: 16 << 20 };
    writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
    const hog = await executor.start(keep, 'exec-oom', b, 'pipe').exited;
    assert.deepEqual([hog.code, hog.oomKilled], [137, true]);
    const c = await running(keep, 'exec-kill9', 'sleep 300');
    await executor.kill(keep, 'exec-kill9', 'SIGKILL');
    const killed = await c.exited;
    assert.deepEqual([killed.code, killed.oomKilled], [137, undefined]);
    assert.deepEqual(await executor.list(keep), [], 'kept containers are deleted after their exit');
  });

  it('reports state, and reconcile removes containers it did not start', async () => {
    const other = new RuncExecutor(); // a "previous berthd"
    const c = other.start(cli, 'exec-orphan', bundle('orphan', 'sleep 30'), 'pipe');
    await waitRunning(executor, cli, 'exec-orphan');
    const st = await executor.state(cli, 'exec-orphan');
    assert.equal(st.status, 'running');
    assert.equal(st.bundle, join(dir, 'orphan'));
    assert.deepEqual(await executor.reconcile(cli), ['exec-orphan']);
    assert.deepEqual(await executor.list(cli), []);
    assert.equal((await c.exited).code, 137);
    await assert.rejects(executor.state(cli, 'exec-orphan'), /No such container: exec-orphan/);
  });

  it('reports a runtime that cannot start as exit 127 with the reason', async () => {
    const missing = { ...cli, binary: join(dir, 'no-such-runtime') };
    const status = await executor.start(missing, 'exec-missing', join(dir, 'a'), 'pipe').exited;
    assert.equal(status.code, 127);
    assert.match(status.error ?? '', /ENOENT/);
  });
});

/** Pids whose command line names `word` (a container id: its `runc run`, a shell above it). */
function processesNaming(word: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(word);
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

async function waitRunning(executor: RuncExecutor, cli: RuncCli, id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const st = await executor.state(cli, id).catch(() => undefined);
    if (st?.status === 'running') return;
    if (Date.now() > deadline) throw new Error(`${id} never ran`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
