import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConflictError } from '../errdefs/index.ts';
import { claimPidFile, releasePidFile } from './pidfile.ts';

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

  it('refuses when a live process holds it', async () => {
    const path = join(dir, 'live.pid');
    const other = spawn('sleep', ['30']);
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

  it('replaces a file left by a dead process (kill -9)', () => {
    const path = join(dir, 'stale.pid');
    writeFileSync(path, '999999999\n');
    claimPidFile(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  });
});
