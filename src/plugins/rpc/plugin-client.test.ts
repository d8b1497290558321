import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DeadlineError,
  httpStatusOf,
  NotFoundError,
  SystemError,
  UnavailableError,
} from '../../errdefs/index.ts';
import { socketAddress } from '../../host/index.ts';
import { PluginClient } from './plugin-client.ts';

// A socket directory longer than a sockaddr_un holds: the client must still reach it.
const base = mkdtempSync(join(tmpdir(), 'berth-client-'));
const dir = join(base, 'x'.repeat(100));
mkdirSync(dir, { recursive: true });
const servers: Server[] = [];
const clients: PluginClient[] = [];
after(async () => {
  for (const c of clients) await c.close();
  for (const s of servers) s.close();
  rmSync(base, { recursive: true, force: true });
});

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function plugin(socket: string, handler: Handler): Server {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handler(req, body, res));
  });
  // listen through /proc/self/fd too: the path is too long for bind(2) as well
  const address = socketAddress(dir, socket);
  server.listen(address.path, () => address.close());
  servers.push(server);
  return server;
}

function client(socket: string, o = {}): PluginClient {
  const c = new PluginClient('test/plugin', dir, socket, { retryBaseMs: 50, retryWindowMs: 1500, ...o });
  clients.push(c);
  return c;
}

describe('PluginClient', () => {
  it("sends Docker's request and decodes the answer", async () => {
    let seen: Record<string, string | undefined> = {};
    plugin('ok.sock', (req, body, res) => {
      seen = { url: req.url, accept: req.headers.accept, type: req.headers['content-type'], body };
      res.end('{"Mountpoint":"/data/v1"}');
    });
    const answer = await client('ok.sock').call('VolumeDriver.Path', { Name: 'v1' });
    assert.deepEqual(answer, { Mountpoint: '/data/v1' });
    assert.deepEqual(seen, {
      url: '/VolumeDriver.Path',
      accept: 'application/vnd.docker.plugins.v1.2+json',
      type: undefined,
      body: '{"Name":"v1"}\n',
    });
  });

  it('turns {"Err"} into "<Iface>.<Method>: message", raw bodies too, and 404 into NotFound', async () => {
    plugin('err.sock', (req, _body, res) => {
      if (req.url === '/VolumeDriver.Create') res.writeHead(500).end('{"Err":"refused by request: nope"}');
      else if (req.url === '/VolumeDriver.Remove') res.writeHead(500).end('disk on fire');
      else if (req.url === '/VolumeDriver.Get') res.end('{"Err":"no such volume"}');
      else res.writeHead(404).end('404 page not found');
    });
    const c = client('err.sock');
    await assert.rejects(
      c.call('VolumeDriver.Create', { Name: 'x' }),
      (e: unknown) =>
        e instanceof SystemError && e.message === 'VolumeDriver.Create: refused by request: nope',
    );
    await assert.rejects(
      c.call('VolumeDriver.Remove', {}),
      /^SystemError: VolumeDriver.Remove: disk on fire$/,
    );
    await assert.rejects(c.call('VolumeDriver.Get', {}), /^SystemError: VolumeDriver.Get: no such volume$/);
    await assert.rejects(
      c.call('VolumeDriver.Nope'),
      (e: unknown) => e instanceof NotFoundError && /404 page not found/.test(e.message),
    );
  });

  it('retries while the plugin is not listening yet, then gives up with a clear error', async () => {
    const c = client('late.sock');
    setTimeout(() => plugin('late.sock', (_req, _body, res) => res.end('{}')), 300);
    assert.deepEqual(await c.call('VolumeDriver.List', {}), {});
    const started = performance.now();
    await assert.rejects(
      client('never.sock').call('VolumeDriver.List', {}),
      (e: unknown) => e instanceof UnavailableError && /not reachable \(ENOENT\)/.test(e.message),
    );
    assert.ok(performance.now() - started < 2500);
  });

  it('reports a plugin that dies mid-call or never answers, without hanging', async () => {
    plugin('dies.sock', (req) => req.socket.destroy());
    await assert.rejects(
      client('dies.sock').call('VolumeDriver.Mount', { Name: 'v' }),
      /VolumeDriver.Mount: plugin test\/plugin closed the connection before answering \(did it crash\?\)/,
    );
    plugin('mute.sock', () => undefined);
    const started = performance.now();
    await assert.rejects(
      client('mute.sock').call('VolumeDriver.List', {}, { timeoutMs: 300 }),
      (e: unknown) =>
        e instanceof DeadlineError &&
        httpStatusOf(e) === 504 &&
        /^VolumeDriver.List: plugin test\/plugin did not answer within 300 ms$/.test(e.message),
    );
    assert.ok(performance.now() - started < 2000);
  });

  it('bounds the whole call, retries included, by its timeout', async () => {
    const started = performance.now();
    await assert.rejects(
      client('absent.sock').call('VolumeDriver.List', {}, { timeoutMs: 200 }),
      (e: unknown) => e instanceof UnavailableError && /not reachable \(ENOENT\)/.test(e.message),
    );
    assert.ok(performance.now() - started < 400, `took ${performance.now() - started} ms`);
  });

  it('tells its observer each call, stream and error with the plugin, the method and the seconds', async () => {
    plugin('seen.sock', (req, _body, res) => {
      if (req.url === '/VolumeDriver.Remove') res.writeHead(500).end('{"Err":"busy"}');
      else res.end('{}');
    });
    const seen: [string, string, number, unknown][] = [];
    const c = client('seen.sock', {
      observer: { callDone: (p: string, m: string, s: number, e?: unknown) => seen.push([p, m, s, e]) },
    });
    await c.call('VolumeDriver.List');
    await assert.rejects(c.call('VolumeDriver.Remove', { Name: 'v' }));
    (await c.stream('LogDriver.ReadLogs', {})).resume();
    assert.deepEqual(
      seen.map(([p, m, , e]) => [p, m, e instanceof SystemError ? e.message : e]),
      [
        ['test/plugin', 'VolumeDriver.List', undefined],
        ['test/plugin', 'VolumeDriver.Remove', 'VolumeDriver.Remove: busy'],
        ['test/plugin', 'LogDriver.ReadLogs', undefined],
      ],
    );
    assert.ok(seen.every(([, , s]) => s >= 0 && s < 5));
  });
});
