/**
 * berth's containerd client against a real, private containerd 1.6: a container with an inline OCI spec and no
 * snapshotter, a task with FIFO stdio, its exit from Tasks.Wait and from the event stream, kill, cleanup that is
 * idempotent, gRPC errors as berth's error kinds, and a containerd that is not there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContainerdClient, packAny, runcOptionsType, type TaskExit } from '../../src/containerd/index.ts';
import { ConflictError, UnavailableError } from '../../src/errdefs/index.ts';
import { containerSpec } from '../../src/oci/index.ts';
import { busyboxRootfs } from './berthd.ts';
import { type PrivateContainerd, skipUnlessContainerd, startContainerd } from './cri.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers() || skipUnlessContainerd();

/** A FIFO read end that sees EOF only once the task's writers are gone (we hold a writer until the task exists). */
function fifo(path: string): { text: Promise<string>; releaseHold(): void } {
  execFileSync('mkfifo', ['-m', '0600', path]);
  const reader = new Socket({
    fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  const hold = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  reader.on('data', (b: Buffer) => chunks.push(b));
  const text = new Promise<string>((resolve) =>
    reader.on('close', () => resolve(Buffer.concat(chunks).toString())),
  );
  return { text, releaseHold: () => closeSync(hold) };
}

describe('containerd client (private containerd 1.6)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctrd-'));
  let ctrd: PrivateContainerd;
  let client: ContainerdClient;
  let rootfs: string;
  const runcRoot = join(dir, 'runc-root');
  const runtime = () => ({
    name: 'io.containerd.runc.v2',
    // A private runc root: the default (/run/containerd/runc/<ns>) would mix with other containerd users.
    options: packAny(runcOptionsType(), 'containerd.runc.v1.Options', { root: runcRoot }),
  });

  before(async () => {
    mkdirSync(runcRoot, { recursive: true });
    const config = join(dir, 'config.toml');
    writeFileSync(config, `version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n`);
    ctrd = await startContainerd(dir, config);
    client = new ContainerdClient(ctrd.socket, `berth-test-${process.pid}`);
    rootfs = busyboxRootfs(dir);
  });
  after(async () => {
    client?.close();
    await ctrd?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `args` as a task; returns its exit and output. */
  async function run(id: string, args: string[]): Promise<{ exit: TaskExit; out: string; err: string }> {
    await client.createContainer({
      id,
      labels: { 'berth.kind': 'test' },
      runtime: runtime(),
      spec: containerSpec({ rootfs, args }),
    });
    const out = fifo(join(dir, `${id}.out`));
    const err = fifo(join(dir, `${id}.err`));
    try {
      await client.createTask(id, { stdout: join(dir, `${id}.out`), stderr: join(dir, `${id}.err`) });
    } finally {
      out.releaseHold();
      err.releaseHold();
    }
    const exited = client.waitTask(id);
    await client.startTask(id);
    const exit = await exited;
    await client.deleteTask(id);
    await client.deleteContainer(id);
    return { exit, out: await out.text, err: await err.text };
  }

  it('answers Version', async () => {
    assert.match((await client.version()).version, /^1\.6\./);
  });

  it('runs a task from an inline spec: output through FIFOs, exit status from Wait and from the event stream', async () => {
    const exits: TaskExit[] = [];
    const sub = client.subscribeExits(
      (e) => exits.push(e),
      () => undefined,
    );
    try {
      const r = await run('t1', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual([r.exit.exitStatus, r.out, r.err], [3, 'out\n', 'err\n']);
      assert.ok(Date.now() - r.exit.exitedAt.getTime() < 60_000);
      for (let i = 0; i < 100 && !exits.some((e) => e.id === 't1'); i++)
        await new Promise((res) => setTimeout(res, 20));
      assert.deepEqual(
        exits.filter((e) => e.id === 't1').map((e) => e.exitStatus),
        [3],
      );
    } finally {
      sub.close();
    }
    assert.deepEqual(await client.listContainers(['labels."berth.kind"==test']), []);
  });

  it('kills a task, lists it while it runs, and cleans up idempotently', async () => {
    await client.createContainer({
      id: 't2',
      labels: { 'berth.kind': 'test' },
      runtime: runtime(),
      spec: containerSpec({ rootfs, args: ['sleep', '300'] }),
    });
    await client.createTask('t2', { stdout: '', stderr: '' });
    const exited = client.waitTask('t2');
    const pid = await client.startTask('t2');
    assert.ok(pid > 0);
    assert.deepEqual(
      (await client.listTasks()).map((t) => [t.id, t.status]),
      [['t2', 'RUNNING']],
    );
    assert.deepEqual(
      (await client.listContainers(['labels."berth.kind"==test'])).map((c) => c.id),
      ['t2'],
    );
    await client.killTask('t2', 9);
    assert.equal((await exited).exitStatus, 137);
    assert.equal((await client.getTask('t2'))?.status, 'STOPPED');
    assert.equal((await client.deleteTask('t2'))?.exitStatus, 137);
    assert.equal(await client.deleteTask('t2'), undefined); // already gone: not an error
    await client.deleteContainer('t2');
    await client.deleteContainer('t2');
    assert.equal(await client.getTask('t2'), undefined);
  });

  it('maps containerd errors to berth kinds, and names a missing shim', async () => {
    const spec = containerSpec({ rootfs, args: ['true'] });
    await client.createContainer({ id: 't3', labels: {}, runtime: runtime(), spec });
    await assert.rejects(
      client.createContainer({ id: 't3', labels: {}, runtime: runtime(), spec }),
      ConflictError,
    );
    await client.deleteContainer('t3');
    await client.createContainer({ id: 't4', labels: {}, runtime: { name: 'io.containerd.nope.v1' }, spec });
    await assert.rejects(client.createTask('t4', { stdout: '', stderr: '' }), /containerd-shim-nope-v1/);
    await client.deleteContainer('t4'); // containerd keeps the record of a failed task create: delete it
    assert.deepEqual(await client.listContainers(), []);
  });

  it('reports a containerd that is not there as unavailable', async () => {
    const gone = new ContainerdClient(join(dir, 'no.sock'), 'x');
    try {
      await assert.rejects(gone.version(2000), UnavailableError);
    } finally {
      gone.close();
    }
  });
});
