/**
 * Bounded waits through a real berthd (with its timeouts shortened through the environment): a request body that
 * stops arriving ends with 408, its staging cleaned, and the connection closed; a plugin that accepts connections
 * and never answers is named in a warning at enable, costs `volume ls` one short timeout (its known volumes listed
 * with the error), and `volume create` answers 504 naming the plugin and the call before the docker CLI gives up.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { tarball } from '../fixtures/tarball.ts';
import { type TestDaemon, testDaemon } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const FIXTURE = new URL('../fixtures/plugins/behave.ts', import.meta.url).pathname;
const CONTEXT = tarball([
  {
    path: 'config.json',
    body: JSON.stringify({
      Entrypoint: ['/p'],
      Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'p.sock' },
    }),
  },
  { path: 'rootfs/p', body: 'x'.repeat(3000) },
]);

/** Sends `head` and `pieces` (each after `gapMs`) on a raw connection; resolves with the answer when it closes. */
function rawRequest(
  socket: string,
  head: string,
  pieces: Buffer[],
  gapMs: number,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let got = '';
    c.on('data', (b) => {
      got += b.toString();
    });
    c.on('error', reject);
    c.on('close', () =>
      resolve({ status: Number(got.split(' ')[1]), text: got, ms: performance.now() - started }),
    );
    c.write(head);
    pieces.forEach((p, i) => {
      // A client stops sending once it has its answer: a byte the server never reads makes its close a reset.
      setTimeout(() => !c.destroyed && !got && c.write(p), gapMs * (i + 1));
    });
  });
}

const chunked = (b: Buffer) =>
  Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);

describe('bounded waits: stalled bodies and hung plugins', { skip, timeout: 60_000 }, () => {
  let d: TestDaemon;
  let agent: Agent;
  let ctx: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const res = await request(`http://berth${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: () => JSON.parse(text), ms: performance.now() - started };
  };

  before(async () => {
    Object.assign(process.env, {
      BERTHD_BODY_IDLE_TIMEOUT_MS: '700',
      BERTHD_ACTIVATE_TIMEOUT_MS: '300',
      BERTHD_VOLUME_LIST_TIMEOUT_MS: '500',
      BERTHD_VOLUME_ANSWER_TIMEOUT_MS: '1500',
    });
    d = testDaemon('berth-timeouts');
    ctx = await packageNodePlugin({
      source: FIXTURE,
      manifest: {
        Entrypoint: ['/usr/bin/node', '/plugin/plugin.js'],
        Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'behave.sock' },
        Env: [{ Name: 'MODE', Settable: ['value'], Value: 'listen' }],
      },
      outDir: join(d.dir, 'ctx'),
    });
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
  });
  after(async () => {
    if (process.env.DEBUG_BERTHD) console.error(d.log());
    await agent?.close();
    await d?.cleanup();
  });

  it('answers 408 to a plugin upload that stops arriving, cleans its staging and closes the connection', async () => {
    const head =
      'POST /v1.41/plugins/create?name=stalled HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n';
    const r = await rawRequest(d.socket, head, [chunked(CONTEXT.subarray(0, 1536))], 10);
    assert.equal(r.status, 408, r.text);
    assert.match(r.text, /request timed out: no data of the request body arrived for 0.7 s/);
    assert.ok(r.ms < 3000, `answered and closed after ${r.ms} ms`);
    const tmp = join(d.dataRoot, 'plugins', 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
    assert.equal((await call('GET', '/plugins/stalled/json')).status, 404);
  });

  it('answers 408 to a JSON body that stops arriving', async () => {
    const head =
      'POST /v1.41/volumes/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n' +
      'Content-Length: 50\r\n\r\n{"Name":';
    const r = await rawRequest(d.socket, head, [], 0);
    assert.equal(r.status, 408, r.text);
    assert.ok(r.ms < 3000, `answered and closed after ${r.ms} ms`);
  });

  it('answers 408 to a JSON body dribbled a byte at a time: a buffered body has a total deadline', async () => {
    const head =
      'POST /v1.41/volumes/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n' +
      'Content-Length: 40\r\n\r\n';
    const bytes = [...Buffer.from('{"Name":"v","Driver":"nope/nope","L":1}')].map((b) => Buffer.from([b]));
    // 300 ms apart: each byte well within the 0.7 s idle limit, and none due just when the total deadline ends
    // the request (at 100 ms apart, one was, and its arrival during the close reset the connection).
    const r = await rawRequest(d.socket, head, bytes, 300);
    assert.equal(r.status, 408, r.text);
    assert.match(r.text, /the request body did not arrive within 0.7 s/);
    assert.ok(r.ms < 2000, `answered and closed after ${r.ms} ms`);
  });

  it('lets a slow but steady upload through: only silence counts', async () => {
    const head =
      'POST /v1.41/plugins/create?name=steady HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\n' +
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    const pieces = Array.from({ length: 6 }, (_, i) =>
      chunked(CONTEXT.subarray((i * CONTEXT.length) / 6, ((i + 1) * CONTEXT.length) / 6)),
    );
    const r = await rawRequest(d.socket, head, [...pieces, Buffer.from('0\r\n\r\n')], 300);
    assert.equal(r.status, 204, r.text);
    assert.ok(r.ms > 1500);
    assert.equal((await call('DELETE', '/plugins/steady')).status, 200);
  });

  it('names a hung plugin at enable, bounds volume ls, and answers volume create with 504 in time', async () => {
    const create = await request('http://berth/v1.41/plugins/create?name=test/hung', {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-tar' },
      body: (await import('tar')).c({ cwd: ctx }, ['config.json', 'rootfs']) as never,
    });
    assert.equal(create.statusCode, 204, await create.body.text());
    assert.equal((await call('POST', '/plugins/test/hung/enable')).status, 200);
    assert.equal((await call('POST', '/volumes/create', { Name: 'known', Driver: 'test/hung' })).status, 201);
    assert.equal((await call('POST', '/plugins/test/hung/disable?force=1')).status, 200);
    assert.equal((await call('POST', '/plugins/test/hung/set', ['MODE=hung'])).status, 204);

    const enable = await call('POST', '/plugins/test/hung/enable');
    assert.equal(enable.status, 200, enable.text);
    const warnings = (await call('GET', '/plugins/test/hung/json')).json().Status.Warnings;
    assert.match(
      warnings.join('\n'),
      /Plugin.Activate did not answer within 300 ms: the plugin accepts connections but may be hung/,
    );

    const ls = await call('GET', '/v1.41/volumes');
    assert.equal(ls.status, 200, ls.text);
    assert.ok(ls.ms < 1500, `volume ls took ${ls.ms} ms`);
    const { Volumes, Warnings } = ls.json();
    assert.deepEqual(
      Volumes.map((v: { Name: string }) => v.Name),
      ['known'],
    );
    assert.match(
      Volumes[0].Status.error,
      /VolumeDriver.Get: plugin test\/hung:latest did not answer within 500 ms/,
    );
    assert.match(
      Warnings.join('\n'),
      /^test\/hung:latest: VolumeDriver.List: plugin test\/hung:latest did not answer within 500 ms$/,
    );

    const vc = await call('POST', '/volumes/create', { Name: 'late', Driver: 'test/hung' });
    assert.equal(vc.status, 504, vc.text);
    assert.ok(vc.ms < 2500, `volume create answered after ${vc.ms} ms`);
    assert.match(
      vc.json().message,
      /^VolumeDriver.Create: plugin test\/hung:latest did not answer within 1.5 s/,
    );
    // Prune queues its removes at once: one answer timeout in all, not one per volume.
    const prune = await call('POST', '/volumes/prune');
    assert.equal(prune.status, 200, prune.text);
    assert.ok(prune.ms < 2500, `volume prune answered after ${prune.ms} ms`);
    assert.deepEqual(prune.json().VolumesDeleted, []);
  });
});
