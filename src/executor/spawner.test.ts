import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { reopenOutput } from './runc-adopt.ts';
import { Spawner, sharedSpawner } from './spawner.ts';

// Built by scripts/setup.sh; under CI its absence is a failure, elsewhere the tests say why they skip.
const spawner = sharedSpawner();
const skip =
  spawner || process.env.CI === 'true' ? false : 'native/berth-spawner is not built (scripts/setup.sh)';
const HELPER = new URL('../../native/berth-spawner', import.meta.url).pathname;
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

  it('keeps piped output unbroken when it dies: a new reader gets it through /proc, a pidfd watch sees the exit', async () => {
    const first = new Spawner(process.env.BERTHD_SPAWNER || HELPER);
    const c = first.spawn(['sh', '-c', 'sleep 0.2; echo after $?'], { cwd: dir });
    await new Promise((r) => setTimeout(r, 50));
    first.close(); // what berthd's death does to its spawner: the child lives on, its stdout with no reader
    await c.closed;
    const out = read(reopenOutput(c.pid, 1));
    const w = spawner?.watch(c.pid);
    await w?.watching;
    assert.deepEqual(await w?.ended, {});
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(out(), 'after 0\n', 'the write did not fail with EPIPE');
    await assert.rejects(spawner?.watch(2 ** 22 + 1).watching ?? Promise.reject(), /ESRCH/);
  });
});
