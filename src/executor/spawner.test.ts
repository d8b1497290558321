import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeSharedSpawner, helperBinary, sharedSpawner, useRendezvous } from './shared-spawner.ts';
import { PROTOCOL_VERSION, Spawner } from './spawner.ts';

// Built by scripts/setup.sh; under CI its absence is a failure, elsewhere the tests say why they skip.
const spawner = sharedSpawner();
const skip =
  spawner || process.env.CI === 'true' ? false : 'native/berth-spawner is not built (scripts/setup.sh)';
const dir = mkdtempSync(join(tmpdir(), 'berth-spawner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const read = (s: NodeJS.ReadableStream | undefined) => {
  const chunks: Buffer[] = [];
  s?.on('data', (b: Buffer) => chunks.push(b));
  return () => Buffer.concat(chunks).toString();
};

describe('berth-spawner', { skip }, () => {
  it('is built', () => assert.ok(spawner, 'native/berth-spawner is missing: run scripts/setup.sh'));

  it('runs a child in its own session with piped output, and reports its code after the output', async () => {
    const c = spawner?.spawn(['sh', '-c', 'pwd; ps -o sid= -p $$ >&2; exit 3'], { cwd: dir });
    const out = read(c?.stdout);
    const err = read(c?.stderr);
    assert.deepEqual(await c?.closed, { code: 3, signal: null });
    assert.equal(out(), `${dir}\n`);
    assert.equal(Number(err().trim()), c?.pid, 'the child leads its own session');
  });

  it('appends to a log file, reports signals, and words a failed exec as node does', async () => {
    const log = join(dir, 'x.log');
    const c = spawner?.spawn(['sh', '-c', 'echo one; echo two >&2; kill -TERM $$'], {
      cwd: dir,
      logPath: log,
    });
    assert.deepEqual(await c?.closed, { code: null, signal: 'SIGTERM' });
    assert.equal(readFileSync(log, 'utf8'), 'one\ntwo\n');
    const missing = await spawner?.spawn(['/nonexistent/runc'], { cwd: dir }).closed;
    assert.match(missing?.error?.message ?? '', /^spawn \/nonexistent\/runc ENOENT$/);
  });

  it('signals a child it has not reaped, and refuses once its exit is known', async () => {
    const c = spawner?.spawn(
      ['sh', '-c', 'trap "echo term; exit 5" TERM; echo up; while :; do sleep 0.05; done'],
      {
        cwd: dir,
      },
    );
    const out = read(c?.stdout);
    await until(out, 'up\n');
    assert.equal(c?.kill('SIGTERM'), true);
    assert.deepEqual(await c?.closed, { code: 5, signal: null });
    assert.equal(out(), 'up\nterm\n');
    assert.equal(c?.kill('SIGTERM'), false, 'its exit is known: nothing is sent');
    // A child handed over by the helper a previous berthd left, as an adopted `runc run` is stopped.
    const path = join(dir, 'r-signal.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    const kept = first.spawn(['sh', '-c', 'trap "exit 6" TERM; echo up; while :; do sleep 0.05; done'], {
      cwd: dir,
    });
    await until(read(kept.stdout), 'up\n');
    first.close();
    const second = await Spawner.attach(path);
    const [tag] = [...(second?.survivors().keys() ?? [])];
    const adopted = second?.claim(tag ?? 0);
    assert.equal(adopted?.kill('SIGTERM'), true);
    assert.deepEqual(await adopted?.closed, { code: 6, signal: null });
    second?.close();
  });

  it('with a rendezvous, outlives its berthd and hands its children and what they wrote meanwhile to the next', async () => {
    const path = join(dir, 'r.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    const script =
      'echo before; sleep 0.2; echo during; echo err >&2; sleep 0.8; read x; echo after "$x"; exit 4';
    const c = first.spawn(['sh', '-c', script], { cwd: dir });
    await until(read(c.stdout), 'before\n');
    first.close(); // as if berthd died: the helper stays, for its child
    await new Promise((r) => setTimeout(r, 500)); // it writes meanwhile
    assert.equal(await Spawner.attach(join(dir, 'nobody.sock')), undefined);
    const second = await Spawner.attach(path);
    assert.ok(second, 'the helper answers on its rendezvous socket');
    const survivors = [...second.survivors()];
    assert.equal(survivors.length, 1);
    const [tag, s] = survivors[0] ?? [];
    assert.deepEqual([s?.pid, s?.argv, s?.exited], [c.pid, ['sh', '-c', script], false]);
    const child = second.claim(tag ?? 0);
    const out = read(child?.stdout);
    const err = read(child?.stderr);
    assert.equal(second.survivors().size, 0);
    const next = second.spawn(['true'], { cwd: dir }); // a new tag, after the previous berthd's
    assert.deepEqual(await next.closed, { code: 0, signal: null });
    assert.deepEqual(await child?.closed, { code: 4, signal: null }); // stdin is /dev/null: read fails
    assert.deepEqual([out(), err()], ['during\nafter \n', 'err\n']);
    second.close(); // no child left: the helper ends and removes its socket
    await until(() => (existsSync(path) ? 'there' : 'gone'), 'gone');
  });

  it('stays, once detached, while what a child left running still writes to its pipes, and hands that over', async () => {
    const path = join(dir, 'r4.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    // As `runc run` killed while its container's init goes on: the child is gone, its stdout is not.
    const c = first.spawn(['sh', '-c', '(sleep 0.5; echo late) & echo early'], { cwd: dir });
    await until(read(c.stdout), 'early\n');
    first.close();
    await new Promise((r) => setTimeout(r, 200));
    const second = await Spawner.attach(path);
    assert.ok(second, 'the helper is still there: the background writer would die of SIGPIPE without it');
    const [tag] = [...second.survivors().keys()];
    const child = second.claim(tag ?? 0);
    const out = read(child?.stdout);
    assert.deepEqual(await child?.closed, { code: 0, signal: null });
    assert.equal(out(), 'late\n');
    second.close();
  });

  it('keeps the exit of a child that ended meanwhile, and up to 1 MiB of output per child', async () => {
    const path = join(dir, 'r2.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    const ended = first.spawn(['sh', '-c', 'sleep 0.2; echo bye; exit 7'], { cwd: dir });
    const loud = first.spawn(['sh', '-c', 'sleep 0.3; head -c 1500000 /dev/zero; sleep 0.5'], { cwd: dir });
    await new Promise((r) => setTimeout(r, 100));
    first.close();
    await new Promise((r) => setTimeout(r, 500));
    const second = await Spawner.attach(path);
    const byPid = new Map([...(second?.survivors() ?? [])].map(([tag, s]) => [s.pid, { tag, s }]));
    const e = byPid.get(ended.pid);
    assert.equal(e?.s.exited, true);
    const l = byPid.get(loud.pid);
    assert.equal(l?.s.exited, false);
    const endedChild = second?.claim(e?.tag ?? 0);
    const loudChild = second?.claim(l?.tag ?? 0);
    const loudOut = read(loudChild?.stdout);
    const loudErr = read(loudChild?.stderr);
    assert.deepEqual(await endedChild?.closed, { code: 7, signal: null });
    assert.deepEqual(await loudChild?.closed, { code: 0, signal: null });
    assert.ok(loudOut().length <= 1 << 20, `${loudOut().length} bytes kept`);
    assert.match(
      loudErr(),
      /^\[berth-spawner: \d+ bytes of output dropped while no berthd was attached\]\n$/,
    );
    second?.close();
  });

  it('after a handover: reports at once a lone child that ended meanwhile, and a log-file child keeps its stdout', async () => {
    const path = join(dir, 'r6.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    const lone = first.spawn(['sh', '-c', 'sleep 0.2; exit 5'], { cwd: dir });
    const quiet = first.spawn(['sleep', '1'], { cwd: dir }); // keeps the helper, and wakes nothing
    await new Promise((r) => setTimeout(r, 50));
    first.close();
    await new Promise((r) => setTimeout(r, 400)); // lone has exited meanwhile
    const second = await Spawner.attach(path);
    const byPid = new Map([...(second?.survivors() ?? [])].map(([tag, s]) => [s.pid, { tag, s }]));
    assert.equal(byPid.get(lone.pid)?.s.exited, true);
    assert.equal(byPid.get(quiet.pid)?.s.exited, false);
    const ended = second?.claim(byPid.get(lone.pid)?.tag ?? 0)?.closed;
    const soon = new Promise((r) => setTimeout(() => r('not reported'), 300));
    assert.deepEqual(await Promise.race([ended, soon]), { code: 5, signal: null });
    const log = join(dir, 'after.log');
    const logged = second?.spawn(['sh', '-c', 'echo out; echo err >&2'], { cwd: dir, logPath: log });
    assert.deepEqual(await logged?.closed, { code: 0, signal: null });
    assert.equal(readFileSync(log, 'utf8'), 'out\nerr\n');
    second?.close();
  });

  it('once detached and out of file descriptors, waits for the next berthd without spinning', async () => {
    const path = join(dir, 'r5.sock');
    const first = Spawner.start(helperBinary() ?? '', path);
    const keeper = first.spawn(['sleep', '5'], { cwd: dir }); // keeps the helper while detached
    await until(() => String(keeper.pid > 0), 'true');
    first.close();
    const pid = helperPid(path);
    // Its lowest free fd as its limit: the next accept fails with EMFILE, and the connection stays queued.
    const taken = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    let lowestFree = 0;
    while (taken.has(lowestFree)) lowestFree++;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowestFree}:`]);
    const attached = Spawner.attach(path, 5000);
    await new Promise((r) => setTimeout(r, 200));
    const before = cpuTicks(pid);
    await new Promise((r) => setTimeout(r, 1000));
    const spent = cpuTicks(pid) - before; // a spinning accept burns a whole second: ~100 ticks
    execFileSync('prlimit', ['--pid', String(pid), '--nofile=1024:']);
    const second = await attached;
    assert.ok(spent < 20, `${spent} clock ticks of CPU in 1 s while accept failed`);
    assert.ok(second, 'the queued berthd is taken once a descriptor is free');
    const [tag] = [...second.survivors().keys()];
    second.claim(tag ?? 0);
    process.kill(keeper.pid);
    second.close();
    await until(() => (existsSync(path) ? 'there' : 'gone'), 'gone');
  });

  // Last: it changes the process's shared spawner.
  it('useRendezvous: a new helper listening, or why not (a path it cannot bind)', async () => {
    mkdirSync(join(dir, 'a dir.sock'));
    assert.deepEqual(await useRendezvous(join(dir, 'a dir.sock')), {
      kind: 'unavailable',
      why: `${join(dir, 'a dir.sock')} is a directory, not berth-spawner's socket: remove it`,
    });
    assert.deepEqual(await useRendezvous(join(dir, 'missing dir', 'r.sock')), {
      kind: 'unavailable',
      why: `berth-spawner could not listen on ${join(dir, 'missing dir', 'r.sock')}`,
    });
    const path = join(dir, 'r3.sock');
    assert.deepEqual(await useRendezvous(path), { kind: 'new' });
    assert.ok(existsSync(path));
    closeSharedSpawner(); // no child: the helper ends and removes its socket
    await until(() => (existsSync(path) ? 'there' : 'gone'), 'gone');
    // A spawn after the close starts a helper without the rendezvous: it must not take the socket over.
    assert.deepEqual(await sharedSpawner()?.spawn(['true'], { cwd: dir }).closed, { code: 0, signal: null });
    assert.equal(existsSync(path), false);
  });

  it('useRendezvous: a helper of another protocol version is not taken over, and says why', async () => {
    const path = join(dir, 'old.sock');
    const frame = (type: string, ints: number[]) => {
      const f = Buffer.alloc(9 + 4 * ints.length);
      f.writeUInt32LE(5 + 4 * ints.length, 0);
      f.write(type, 4, 'latin1');
      for (const [i, n] of ints.entries()) f.writeInt32LE(n, 9 + 4 * i);
      return f;
    };
    // What a berth-spawner of protocol 1 says on its rendezvous socket with no child: hello, list complete.
    const old = createServer((c) => c.end(Buffer.concat([frame('H', [1, 7]), frame('R', [])])));
    await new Promise<void>((r) => old.listen(path, r));
    try {
      assert.deepEqual(await useRendezvous(path), {
        kind: 'new',
        replaced: `the berth-spawner there speaks protocol version 1, this berthd speaks ${PROTOCOL_VERSION}`,
      });
      assert.deepEqual(await sharedSpawner()?.spawn(['true'], { cwd: dir }).closed, {
        code: 0,
        signal: null,
      });
    } finally {
      closeSharedSpawner();
      old.close();
    }
  });
});

async function until(value: () => string, want: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (value() !== want) {
    if (Date.now() > deadline) assert.equal(value(), want);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid of the helper listening on `rendezvous`, from its command line. */
function helperPid(rendezvous: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('--rendezvous') && argv.includes(rendezvous)) return Number(entry);
    } catch {} // ended meanwhile
  }
  assert.fail(`no berth-spawner listens on ${rendezvous}`);
}

/** utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15, after the command's parentheses). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
