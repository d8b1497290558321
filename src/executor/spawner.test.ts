import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sharedSpawner } from './spawner.ts';

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
});
