import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { goDurationText, probeActivate } from './probe.ts';

const dir = mkdtempSync('/tmp/bhp-');
let n = 0;
const servers: Server[] = [];

/** A unix-socket HTTP server answering with `handler`; its path. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const path = join(dir, `s${n++}.sock`);
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

after(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Plugin.Activate probe', () => {
  it('passes on an answer and keeps it as the output', async () => {
    const path = await serve((req, res) => {
      assert.equal(`${req.method} ${req.url}`, 'POST /Plugin.Activate');
      res.end('{"Implements":["VolumeDriver"]}');
    });
    const r = await probeActivate(path, 1000);
    assert.equal(r.ExitCode, 0);
    assert.equal(r.Output, 'Plugin.Activate answered HTTP 200: {"Implements":["VolumeDriver"]}');
    assert.ok(Date.parse(r.End) >= Date.parse(r.Start));
  });

  it('passes on a 404: a plugin without Activate still serves requests', async () => {
    const path = await serve((_req, res) => res.writeHead(404).end('404 page not found'));
    assert.equal((await probeActivate(path, 1000)).ExitCode, 0);
  });

  it('fails on a 5xx', async () => {
    const path = await serve((_req, res) => res.writeHead(500).end('boom'));
    const r = await probeActivate(path, 1000);
    assert.deepEqual([r.ExitCode, r.Output], [1, 'Plugin.Activate answered HTTP 500: boom']);
  });

  it('fails with -1 when the socket accepts but never answers, at the timeout', async () => {
    const path = await serve((req) => req.resume());
    const started = performance.now();
    const r = await probeActivate(path, 100);
    assert.deepEqual([r.ExitCode, r.Output], [-1, 'Health check exceeded timeout (100ms)']);
    assert.ok(performance.now() - started < 1000);
  });

  it('fails with -1 on an answer that never ends (a trickle is no answer)', async () => {
    const path = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{');
    });
    assert.equal((await probeActivate(path, 100)).ExitCode, -1);
  });

  it('fails with 1 when nothing listens', async () => {
    const r = await probeActivate(join(dir, 'missing.sock'), 1000);
    assert.equal(r.ExitCode, 1);
    assert.match(r.Output, /^Plugin.Activate failed: connect ENOENT/);
  });

  it('writes durations as Go does', () => {
    assert.deepEqual([200, 1500, 5000, 90_000].map(goDurationText), ['200ms', '1.5s', '5s', '1m30s']);
  });
});
