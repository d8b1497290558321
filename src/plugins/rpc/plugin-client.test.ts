import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
      seen = {
        url: req.url,
        accept: req.headers.accept,
        type: req.headers['content-type'],
        length: req.headers['content-length'],
        body,
      };
      res.end('{"Mountpoint":"/data/v1"}');
    });
    const c = client('ok.sock');
    const answer = await c.call('VolumeDriver.Path', { Name: 'v1' });
    assert.deepEqual(answer, { Mountpoint: '/data/v1' });
    assert.deepEqual(seen, {
      url: '/VolumeDriver.Path',
      accept: 'application/vnd.docker.plugins.v1.2+json',
      type: undefined,
      length: '14',
      body: '{"Name":"v1"}\n',
    });
    await c.call('Plugin.Activate'); // nil args: an empty body, as moby sends
    assert.deepEqual([seen.url, seen.length, seen.body], ['/Plugin.Activate', '0', '']);
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

  it('reports a plugin that dies in the middle of its answer, or answers too slowly, body included', async () => {
    plugin('half.sock', (req, _body, res) => {
      res.writeHead(200, { 'Content-Length': '100' }).write('{"Mountpoint":');
      if (req.url === '/VolumeDriver.Mount') setTimeout(() => req.socket.destroy(), 50);
    });
    await assert.rejects(
      client('half.sock').call('VolumeDriver.Mount', { Name: 'v' }),
      (e: unknown) => e instanceof SystemError && /closed the connection before answering/.test(e.message),
    );
    await assert.rejects(
      client('half.sock').call('VolumeDriver.Path', { Name: 'v' }, { timeoutMs: 300 }),
      (e: unknown) => e instanceof DeadlineError && /did not answer within 300 ms$/.test(e.message),
    );
  });

  it('keeps one connection per concurrent call alive and reconnects after the plugin closed it', async () => {
    const sockets: Socket[] = [];
    const server = plugin('alive.sock', (_req, _body, res) => setTimeout(() => res.end('{}'), 20));
    server.on('connection', (s: Socket) => sockets.push(s));
    const c = client('alive.sock');
    for (let i = 0; i < 5; i++) await c.call('VolumeDriver.List', {});
    assert.equal(sockets.length, 1);
    await Promise.all([1, 2, 3].map(() => c.call('VolumeDriver.List', {})));
    assert.equal(sockets.length, 3);
    // The plugin closes its idle connections (restarted, or a server with an idle timeout and no Keep-Alive hint)
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await c.call('VolumeDriver.List', {}), {});
    assert.equal(sockets.length, 4);
  });

  it('streams an answer with no body timeout, and close() waits for the stream to end', async () => {
    plugin('logs.sock', (req, _body, res) => {
      if (req.url === '/LogDriver.ReadLogs') {
        res.writeHead(200).write('one ');
        setTimeout(() => res.end('two'), 400);
      } else if (req.url === '/LogDriver.Dies') {
        res.writeHead(200).write('half');
        setTimeout(() => req.socket.destroy(), 20);
      } else if (req.url !== '/LogDriver.Mute') res.writeHead(500).end('{"Err":"no reading"}');
    });
    const c = client('logs.sock');
    await assert.rejects(c.stream('LogDriver.Other', {}), /^SystemError: LogDriver.Other: no reading$/);
    await assert.rejects(
      c.stream('LogDriver.Mute', {}, { timeoutMs: 200 }),
      (e: unknown) => e instanceof DeadlineError && /LogDriver.Mute: .* within 200 ms$/.test(e.message),
    );
    const dying = await c.stream('LogDriver.Dies', {});
    await new Promise((r) => setTimeout(r, 100)); // the plugin died before the reader started
    await assert.rejects(async () => {
      for await (const _ of dying);
    }, /aborted/);
    const body = await c.stream('LogDriver.ReadLogs', {}, { timeoutMs: 200 });
    let closed = false;
    const closing = c.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, false);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'one two');
    await closing;
    assert.ok(closed);
    await assert.rejects(c.call('VolumeDriver.List'), /client is closed/);
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
