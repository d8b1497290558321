/**
 * The containerd executor against a private containerd 1.6: bundles run as containers + tasks with output through
 * FIFOs and exits from Tasks.Wait; stop is TERM → grace → KILL; a failed start leaves no Container or Task record;
 * a second executor (a restarted berthd) adopts a running task with its pid; reconcile removes leftovers of its own
 * owner only.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ContainerdClient } from '../../src/containerd/index.ts';
import { ContainerdExecutor, type ContainerdHandle } from '../../src/executor/index.ts';
import { containerSpec } from '../../src/oci/index.ts';
import { busyboxRootfs } from './berthd.ts';
import { type PrivateContainerd, skipUnlessContainerd, startContainerd } from './cri.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers() || skipUnlessContainerd();

const text = (s: Readable | undefined): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s?.on('data', (b: Buffer) => chunks.push(b));
    s?.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });

describe('containerd executor (private containerd 1.6)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctrd-exec-'));
  let ctrd: PrivateContainerd;
  let client: ContainerdClient;
  let executor: ContainerdExecutor;
  let rootfs: string;
  const runtime = (): ContainerdHandle => ({
    binary: 'containerd-shim-runc-v2',
    name: 'io.containerd.runc.v2',
    options: { type: 'runc', fields: { root: join(dir, 'runc-root') } },
  });
  /** A bundle whose root is relative, as runc bundles are. */
  const bundle = (id: string, args: string[], memory?: number) => {
    const b = join(dir, 'bundles', id);
    mkdirSync(b, { recursive: true });
    symlinkSync(rootfs, join(b, 'rootfs'));
    const spec = containerSpec({ rootfs: 'rootfs', args });
    if (memory && spec.linux)
      spec.linux.resources = { ...spec.linux.resources, memory: { limit: memory, swap: memory } };
    writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
    return b;
  };
  const newExecutor = (owner = 'test') =>
    new ContainerdExecutor(client, { fifoDir: join(dir, 'fifos'), owner });

  before(async () => {
    const config = join(dir, 'config.toml');
    writeFileSync(config, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n');
    ctrd = await startContainerd(dir, config);
    client = new ContainerdClient(ctrd.socket, `berth-exec-${process.pid}`);
    executor = newExecutor();
    rootfs = busyboxRootfs(dir);
  });
  after(async () => {
    await executor?.killAll();
    client?.close();
    await ctrd?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a bundle: split output, exit status, nothing left in containerd', async () => {
    const c = executor.start(
      runtime(),
      'e1',
      bundle('e1', ['sh', '-c', 'echo out; echo err >&2; exit 4']),
      'pipe',
      {
        'berth.kind': 'run',
      },
    );
    const [out, err, exit] = await Promise.all([text(c.stdout), text(c.stderr), c.exited]);
    assert.deepEqual([out, err, exit.code, exit.error], ['out\n', 'err\n', 4, undefined]);
    assert.deepEqual(await executor.list(), []);
    assert.deepEqual(await client.listContainers(), []);
  });

  it('reports a missing shim as the exit of a start that failed, and leaves no record', async () => {
    const nope: ContainerdHandle = { binary: 'containerd-shim-nope-v1', name: 'io.containerd.nope.v1' };
    const c = executor.start(nope, 'e2', bundle('e2', ['true']), 'pipe');
    const [err, exit] = await Promise.all([text(c.stderr), c.exited]);
    assert.equal(exit.code, 127);
    assert.match(exit.error ?? '', /containerd-shim-nope-v1/);
    assert.match(err, /containerd-shim-nope-v1/);
    assert.deepEqual(await client.listContainers(), []);
  });

  it('says a task was OOM-killed from its cgroup (read before the task is deleted), and not for a plain SIGKILL', async () => {
    const hog = executor.start(
      runtime(),
      'oom',
      bundle('oom', ['sh', '-c', 'x=a; while :; do x=$x$x; done'], 16 << 20),
      'pipe',
    );
    assert.deepEqual([(await hog.exited).code, (await hog.exited).oomKilled], [137, true]);
    const killed = executor.start(runtime(), 'kill9', bundle('kill9', ['sleep', '300']), 'pipe');
    await waitRunning('kill9');
    await executor.kill(runtime(), 'kill9', 'SIGKILL');
    assert.deepEqual([(await killed.exited).code, (await killed.exited).oomKilled], [137, undefined]);
  });

  it('stops with SIGTERM when the process honours it, else SIGKILL after the grace period', async () => {
    const polite = executor.start(
      runtime(),
      'e3',
      bundle('e3', ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']),
      'pipe',
    );
    await waitRunning('e3');
    assert.equal((await executor.stop(runtime(), 'e3', 10_000))?.code, 0);
    await polite.exited;
    executor.start(runtime(), 'e4', bundle('e4', ['sleep', '300']), 'pipe'); // PID 1 ignores SIGTERM
    await waitRunning('e4');
    const started = Date.now();
    assert.equal((await executor.stop(runtime(), 'e4', 300))?.code, 137);
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(await client.listContainers(), []);
  });

  it('adopts a running task after a restart (same pid), and reconciles only its own leftovers', async () => {
    const first = executor.start(runtime(), 'e5', bundle('e5', ['sleep', '300']), 'pipe', {
      'berth.kind': 'plugin',
    });
    await waitRunning('e5');
    for (let i = 0; i < 200 && first.runtimePid <= 0; i++) await new Promise((r) => setTimeout(r, 10));
    const pid = first.runtimePid;
    assert.ok(pid > 0);
    const restarted = newExecutor(); // a new berthd: same owner, nothing running yet
    const adopted = await restarted.adopt(runtime(), 'e5');
    assert.equal(adopted?.runtimePid, pid);
    assert.equal(await restarted.adopt(runtime(), 'nope'), undefined);
    assert.deepEqual(await newExecutor('someone-else').list(), []); // other owners never see it
    const third = newExecutor();
    assert.deepEqual(await third.reconcile(), ['e5']); // neither started nor adopted by this one: a leftover
    assert.equal((await adopted?.exited)?.code, 137);
    assert.equal((await first.exited).code, 137);
    assert.deepEqual(await client.listContainers(), []);
  });

  async function waitRunning(id: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await client.getTask(id))?.status === 'RUNNING') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`task ${id} did not start`);
  }
});
