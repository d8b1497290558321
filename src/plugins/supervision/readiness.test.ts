import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitForSocket } from './readiness.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-readiness-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});
const never = new Promise<never>(() => {});

function listenLater(path: string, ms: number): void {
  setTimeout(() => {
    const server = createServer((c) => c.destroy());
    servers.push(server);
    server.listen(path);
  }, ms);
}

describe('waitForSocket', () => {
  it('is ready once a socket created after the wait began accepts', async () => {
    const path = join(dir, 'late.sock');
    listenLater(path, 40);
    const r = await waitForSocket(path, never, 5000);
    assert.equal(r.ready, true);
  });

  it('notices a socket in a directory it cannot watch, by polling', async () => {
    const path = join(dir, 'sub', 'x.sock'); // the directory does not exist when the wait begins
    setTimeout(() => {
      mkdirSync(join(dir, 'sub'));
    }, 10);
    listenLater(path, 30);
    assert.equal((await waitForSocket(path, never, 5000)).ready, true);
  });

  it('says exited when the process ends first, and timeout when nothing listens in time', async () => {
    const path = join(dir, 'none.sock');
    const exited = new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await waitForSocket(path, exited, 5000), { ready: false, why: 'exited' });
    assert.deepEqual(await waitForSocket(path, never, 60), { ready: false, why: 'timeout' });
  });
});
