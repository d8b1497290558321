import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { dump, httpSend, readBody } from './http.ts';

/** A server on a loopback port that records the headers it got and answers with `handle`. */
async function server(
  handle: (url: string, res: import('node:http').ServerResponse) => void,
): Promise<{ s: Server; url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const s = createServer((req, res) => {
    seen.push(req.headers);
    handle(req.url ?? '/', res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { s, url: `http://127.0.0.1:${(s.address() as { port: number }).port}`, seen };
}

describe('registry HTTP transport', () => {
  let storage: Awaited<ReturnType<typeof server>>;
  let registry: Awaited<ReturnType<typeof server>>;
  before(async () => {
    storage = await server((_url, res) => res.end('blob bytes'));
    registry = await server((url, res) => {
      if (url === '/away') res.writeHead(307, { location: `${storage.url}/b?sig=1` }).end();
      else if (url === '/here') res.writeHead(302, { location: '/blob' }).end();
      else if (url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (url === '/slow') setTimeout(() => res.end('late'), 2000).unref();
      else res.end(`at ${url}`);
    });
  });
  after(() => {
    registry.s.closeAllConnections();
    registry.s.close();
    storage.s.close();
  });

  it('follows a redirect to another host without sending the Authorization header there', async () => {
    const headers = { authorization: 'Bearer secret', 'user-agent': 'berth' };
    const r = await httpSend({ method: 'GET', url: `${registry.url}/away`, headers, timeoutMs: 5000 });
    assert.equal(r.status, 200);
    assert.equal((await readBody(r)).toString(), 'blob bytes');
    assert.equal(registry.seen.at(-1)?.authorization, 'Bearer secret');
    assert.equal(storage.seen.at(-1)?.authorization, undefined);
    assert.equal(storage.seen.at(-1)?.['user-agent'], 'berth');
  });

  it('keeps the Authorization header on a redirect within the registry, and stops a redirect loop', async () => {
    const headers = { authorization: 'Basic x' };
    const r = await httpSend({ method: 'GET', url: `${registry.url}/here`, headers, timeoutMs: 5000 });
    assert.equal((await readBody(r)).toString(), 'at /blob');
    assert.equal(registry.seen.at(-1)?.authorization, 'Basic x');
    await assert.rejects(
      httpSend({ method: 'GET', url: `${registry.url}/loop`, timeoutMs: 5000 }),
      /redirects/,
    );
  });

  it('does not follow a redirect of a PUT, and times out a silent server', async () => {
    const r = await httpSend({ method: 'PUT', url: `${registry.url}/away`, body: 'x', timeoutMs: 5000 });
    assert.equal(r.status, 307);
    await dump(r);
    await assert.rejects(
      httpSend({ method: 'GET', url: `${registry.url}/slow`, timeoutMs: 100 }),
      /timed out/,
    );
  });
});
