/**
 * The API server's pipeline on its own: what each payload becomes on the wire, HEAD, hooks and their order,
 * errors at every stage, malformed URLs, streams, and closing. Over real unix sockets where the bytes matter.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConflictError, ForbiddenError, httpStatusOf, PayloadTooLargeError } from '../../errdefs/index.ts';
import { parseJsonBody } from '../body.ts';
import { parseQueryString } from '../query.ts';
import { ApiServer } from './server.ts';

function server(): ApiServer {
  const app = new ApiServer({
    parseQuery: parseQueryString,
    parseBody: async (_req, body) => {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return parseJsonBody(Buffer.concat(chunks).toString());
    },
  });
  app.setErrorHandler((err, _req, reply) =>
    reply.code(httpStatusOf(err)).send({ message: (err as Error).message }),
  );
  return app;
}

describe('ApiServer', () => {
  it('writes each kind of payload as Docker clients read it', async () => {
    const app = server();
    app.get('/object', () => ({ a: 1 }));
    app.get('/string', () => 'OK');
    app.get('/buffer', () => Buffer.from('xyz'));
    app.get('/json-charset', (_req, reply) => reply.type('application/json; charset=utf-8').send('{}'));
    app.post('/empty', (_req, reply) => reply.code(200).send());
    app.delete('/nothing', (_req, reply) => reply.code(204).send());
    const object = await app.inject('/object');
    assert.equal(object.body, '{"a":1}');
    assert.equal(object.headers['content-type'], 'application/json');
    assert.equal(object.headers['content-length'], '7');
    const text = await app.inject('/string');
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await app.inject('/buffer')).headers['content-type'], 'application/octet-stream');
    assert.equal((await app.inject('/json-charset')).headers['content-type'], 'application/json');
    const empty = await app.inject({ method: 'POST', url: '/empty' });
    assert.equal(empty.headers['content-length'], '0');
    const none = await app.inject({ method: 'DELETE', url: '/nothing' });
    assert.equal(none.statusCode, 204);
    assert.equal(none.headers['content-length'], undefined);
  });

  it('answers HEAD on every GET route, with the headers and without the body', async () => {
    const app = server();
    app.get('/_ping', () => 'OK');
    const head = await app.inject({ method: 'HEAD', url: '/_ping' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '2');
    assert.equal((await app.inject({ method: 'POST', url: '/_ping' })).statusCode, 404);
  });

  it('runs the hooks in order, reads the body before preHandler, and lets a hook answer or fail', async () => {
    const app = server();
    const seen: string[] = [];
    app.addHook('onRequest', (req) => {
      seen.push(`onRequest ${req.url}`);
      if (req.query.fail) throw new ConflictError('refused at the door');
    });
    app.addHook('preParsing', (_req, _reply, body) => {
      seen.push('preParsing');
      return body;
    });
    app.addHook('preHandler', async (req, reply) => {
      seen.push(`preHandler ${JSON.stringify(req.body)}`);
      if (req.query.deny) reply.code(403).send({ message: 'denied' });
    });
    app.addHook('onSend', (_req, _reply, payload) => {
      seen.push(`onSend ${String(payload)}`);
      return payload;
    });
    app.addHook('onResponse', (_req, reply) => {
      seen.push(`onResponse ${reply.statusCode}`);
    });
    app.post('/echo', (req) => req.body);
    const echo = await app.inject({ method: 'POST', url: '/echo?x=1', payload: '{"k":"v"}' });
    assert.equal(echo.body, '{"k":"v"}');
    assert.deepEqual(seen, [
      'onRequest /echo?x=1',
      'preParsing',
      'preHandler {"k":"v"}',
      'onSend {"k":"v"}',
      'onResponse 200',
    ]);
    const denied = await app.inject({ method: 'POST', url: '/echo?deny=1' });
    assert.equal(denied.statusCode, 403);
    const failed = await app.inject({ method: 'POST', url: '/echo?fail=1', payload: '{}' });
    assert.equal(failed.statusCode, 409);
    assert.deepEqual(failed.json(), { message: 'refused at the door' });
  });

  it('answers a failing send hook with the error, once, without running the hooks again', async () => {
    const app = server();
    let calls = 0;
    app.addHook('onSend', async () => {
      calls++;
      throw new ConflictError('the response was refused');
    });
    app.get('/x', () => ({ secret: true }));
    const r = await app.inject('/x');
    assert.equal(r.statusCode, 409);
    assert.deepEqual(r.json(), { message: 'the response was refused' });
    assert.equal(calls, 1);
  });

  it('answers 500 when the answer cannot be written after an async send hook, and the process goes on', async () => {
    const app = server();
    app.addHook('onSend', async (_req, _reply, payload) => payload);
    app.get('/bad-header', (_req, reply) => reply.header('x-bad', 'a\nb').send({ ok: true }));
    app.get('/cycle', () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    });
    const bad = await app.inject('/bad-header');
    assert.equal(bad.statusCode, 500);
    assert.equal(bad.headers['x-bad'], undefined);
    assert.match(bad.json().message, /Invalid character in header content/);
    assert.equal((await app.inject('/cycle')).statusCode, 500);
  });

  it('never mixes an answer being sent with a later error', async () => {
    const app = server();
    let release: () => void = () => {};
    app.addHook('onSend', (_req, _reply, payload) => new Promise((r) => (release = () => r(payload))));
    app.get('/x', async (_req, reply) => {
      reply.send({ ok: true });
      setImmediate(() => release());
      throw new ConflictError('too late');
    });
    const r = await app.inject('/x');
    assert.deepEqual([r.statusCode, r.json()], [200, { ok: true }]);
  });

  it('sends no body nor its headers with 204, and takes names longer than 100 characters', async () => {
    const app = server();
    app.delete('/volumes/:name', (req, reply) => reply.code(204).send(req.params.name));
    const long = 'v'.repeat(300);
    const r = await app.inject({ method: 'DELETE', url: `/volumes/${long}` });
    assert.equal(r.statusCode, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers['content-type'], undefined);
    assert.equal(r.headers['content-length'], undefined);
  });

  it('answers a route that throws, a malformed URL and an unknown path in JSON', async () => {
    const app = server();
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'page not found' }));
    app.setErrorHandler((err, _req, reply) =>
      reply.code(err instanceof ForbiddenError ? 403 : 400).send({ message: (err as Error).message }),
    );
    app.get('/volumes/:name', (req) => ({ name: req.params.name }));
    app.get('/boom', async () => {
      throw new ForbiddenError('no');
    });
    assert.deepEqual((await app.inject('/volumes/a%20b')).json(), { name: 'a b' });
    assert.equal((await app.inject('/boom')).statusCode, 403);
    const bad = await app.inject('/volumes/%zz');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /'\/volumes\/%zz' is not a valid URL: .*write %25/);
    assert.equal((await app.inject('/nope')).statusCode, 404);
  });

  describe('over a socket', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-server-'));
    const socket = join(dir, 'api.sock');
    const app = server();
    const events = new PassThrough();
    before(async () => {
      app.get('/events', () => events);
      app.get('/lines', () => Readable.from(['a\n', 'b\n']));
      app.post('/refuse', () => {
        throw new ConflictError('refused after the body');
      });
      app.addHook('onRequest', (req) => {
        if (req.query.early) throw new ConflictError('refused before the body');
        if (req.query.big) throw new PayloadTooLargeError('over the limit');
      });
      app.get('/broken', () => {
        const s = new PassThrough();
        s.write('partial');
        setTimeout(() => s.destroy(new Error('source failed')), 20);
        return s;
      });
      await app.listen({ path: socket });
    });
    after(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const get = (path: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: Readable }>((resolve, reject) => {
        const r = request({ socketPath: socket, path }, (res) =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
        );
        r.on('error', reject);
        r.end();
      });
    const text = async (body: Readable) => {
      let out = '';
      for await (const c of body) out += String(c);
      return out;
    };

    it("sends a stream's headers at once, before its first chunk, then the chunks", async () => {
      const res = await get('/events'); // resolves on the headers: nothing was written to the stream yet
      assert.equal(res.status, 200);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      events.end('{"done":true}\n');
      assert.equal(await text(res.body), '{"done":true}\n');
      assert.equal(await text((await get('/lines')).body), 'a\nb\n');
    });

    it('ends the connection when a stream fails midway, never a truncated answer that looks whole', async () => {
      const res = await get('/broken');
      await assert.rejects(text(res.body));
    });

    const post = (path: string, body: string) =>
      new Promise<{ status: number; connection: unknown }>((resolve, reject) => {
        const agent = new Agent({ keepAlive: true });
        const r = request({ socketPath: socket, path, method: 'POST', agent }, (res) => {
          res.resume();
          agent.destroy();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        });
        r.on('error', reject);
        r.end(body);
      });

    it("keeps a refused upload's connection (node reads the rest), ends it after a body over the limit", async () => {
      const early = await post('/refuse?early=1', 'x'.repeat(1 << 20));
      assert.deepEqual(early, { status: 409, connection: 'keep-alive' });
      assert.deepEqual(await post('/refuse', '{}'), { status: 409, connection: 'keep-alive' });
      assert.deepEqual(await post('/refuse?big=1', 'x'.repeat(1 << 20)), {
        status: 413,
        connection: 'close',
      });
    });

    it('answers a request node cannot parse in JSON: headers over 16 KiB are a 431 that says so', async () => {
      const raw = await new Promise<string>((resolve, reject) => {
        let out = '';
        const s = connect(socket, () =>
          s.write(`GET /x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
        );
        s.on('data', (c) => {
          out += String(c);
        });
        s.on('error', reject);
        s.on('close', () => resolve(out));
      });
      assert.match(raw, /^HTTP\/1.1 431 /);
      assert.match(raw, /"message":"request headers too large: at most 16 KiB/);
    });

    it('ends a HEAD of a stream route at once, without reading the stream', async () => {
      const res = await new Promise<number>((resolve, reject) => {
        const r = request({ socketPath: socket, path: '/lines', method: 'HEAD' }, (m) => {
          m.resume().on('end', () => resolve(m.statusCode ?? 0));
        });
        r.on('error', reject);
        r.end();
      });
      assert.equal(res, 200);
    });

    it('answers 503 once closing, and close ends keep-alive connections', async () => {
      const other = server();
      other.get('/x', () => 'x');
      const path = join(dir, 'other.sock');
      await other.listen({ path });
      const agent = new Agent({ keepAlive: true });
      await new Promise<void>((resolve, reject) =>
        request({ socketPath: path, path: '/x', agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end(),
      );
      await other.close(); // would wait for the idle keep-alive connection without closing it
      agent.destroy();
      const r = await other.inject('/x');
      assert.equal(r.statusCode, 503);
      assert.deepEqual(r.json(), { message: 'berthd is shutting down: retry once it is back' });
    });
  });
});
