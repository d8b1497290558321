import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { askActivate, waitForSocket } from './readiness.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-readiness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin-like HTTP server on a unix socket; counts the connections it accepted. */
async function serve(name: string, handler: RequestListener) {
  const path = join(dir, name);
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('Plugin.Activate on the connection that proved the socket', () => {
  it('asks on that connection: the plugin accepts one connection in all', async () => {
    const s = await serve('ok.sock', (req, res) => {
      req.resume();
      res.end(JSON.stringify({ Implements: ['VolumeDriver'] }));
    });
    const ready = await waitForSocket(s.path, new Promise(() => {}), 1000);
    assert.ok(ready.ready);
    assert.deepEqual(await askActivate(s.path, 1000, ready.socket), {
      answered: true,
      implements: ['VolumeDriver'],
    });
    assert.equal(s.connections(), 1);
    s.close();
  });

  it('still times out on a plugin that accepts but never answers', async () => {
    const s = await serve('hung.sock', (req) => req.resume());
    const ready = await waitForSocket(s.path, new Promise(() => {}), 1000);
    assert.ok(ready.ready);
    const t = performance.now();
    assert.deepEqual(await askActivate(s.path, 200, ready.socket), { answered: false, why: 'timeout' });
    assert.ok(performance.now() - t < 2000);
    s.close();
  });
});

describe('waitForSocket', () => {
  it('waits through a leftover file that accepts nothing and a missing path, and is ready once something listens', async () => {
    const path = join(dir, 'late.sock');
    writeFileSync(path, ''); // as a socket file a killed plugin left: it exists, a connect is refused
    setTimeout(() => rmSync(path), 30);
    let server: Awaited<ReturnType<typeof serve>> | undefined;
    const late = setTimeout(async () => {
      server = await serve('late.sock', (_req, res) => res.end('{}'));
    }, 60);
    const ready = await waitForSocket(path, new Promise(() => {}), 2000);
    clearTimeout(late);
    assert.ok(ready.ready, 'ready once the plugin listens');
    assert.ok(ready.ms >= 50, `ready after ${ready.ms} ms: not on the file that accepted nothing`);
    ready.socket.destroy();
    server?.close();
  });

  it('says why it gave up: the process exited, or the deadline passed', async () => {
    const missing = join(dir, 'never.sock');
    assert.deepEqual(await waitForSocket(missing, Promise.resolve(), 1000), { ready: false, why: 'exited' });
    assert.deepEqual(await waitForSocket(missing, new Promise(() => {}), 50), {
      ready: false,
      why: 'timeout',
    });
  });
});
