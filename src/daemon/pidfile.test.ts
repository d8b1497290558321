import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConflictError } from '../errdefs/index.ts';
import { claimPidFile, isBerthdProcess, releasePidFile } from './pidfile.ts';

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}

describe('pid file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pid-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is written with our pid and removed on release', () => {
    const path = join(dir, 'a', 'berthd.pid');
    claimPidFile(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    releasePidFile(path);
    assert.equal(existsSync(path), false);
  });

  it('refuses when a live berthd holds it', async () => {
    const path = join(dir, 'live.pid');
    // A process whose command line runs berthd (as `node bin/berthd.js` does).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '/usr/bin/berthd']);
    try {
      writeFileSync(path, `${other.pid}\n`);
      assert.throws(
        () => claimPidFile(path),
        (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.match(
            err.message,
            new RegExp(`ensure berthd is not running or delete ${path} \\(held by process ${other.pid}\\)`),
          );
          return true;
        },
      );
      releasePidFile(path); // not ours: must stay
      assert.equal(readFileSync(path, 'utf8'), `${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('replaces a file whose pid is a zombie not yet reaped (restart right after kill -9)', async () => {
    const path = join(dir, 'zombie.pid');
    // `exec sleep` never reaps the shell's background child: it stays a zombie while sleep runs.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30']);
    try {
      const zombie = await new Promise<number>((r) =>
        parent.stdout.once('data', (b) => r(Number(String(b)))),
      );
      await waitUntil(() => /\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')));
      writeFileSync(path, `${zombie}\n`);
      claimPidFile(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('replaces a file whose pid now belongs to another program (pid reuse)', () => {
    const path = join(dir, 'reused.pid');
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(path, `${other.pid}\n`);
      claimPidFile(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('tells berthd command lines from others', () => {
    assert.equal(isBerthdProcess(process.pid), false); // node --test …
    assert.equal(isBerthdProcess(999_999_999), false);
    assert.equal(isBerthdProcess(1, join(dir, 'no-proc')), true); // no /proc: cannot tell, assume it is
  });

  it('replaces a file left by a dead process (kill -9)', () => {
    const path = join(dir, 'stale.pid');
    writeFileSync(path, '999999999\n');
    claimPidFile(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  });
});
