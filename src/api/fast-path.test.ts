/**
 * The fast path of `GET /plugins` against the pipeline's answer: the same requests to one app with it and one without,
 * over real unix sockets, must get the same bytes (status line, every header but Date, body), for the answers it
 * takes and for those it leaves to the pipeline (errors, other paths, the gate holding, an authorization plugin).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForbiddenError } from '../errdefs/index.ts';
import type { PluginFilters } from '../plugins/index.ts';
import { createApi } from './app.ts';
import type { Backend } from './backend.ts';
import type { AuthzPort, StartupPort } from './ports.ts';
import { observeRequests } from './request-observer.ts';
import type { ApiServer } from './server/server.ts';

const LISTING = '[{"Name":"a/b:latest","Enabled":true,"Config":{"Description":"日本 😀"},"Status":{}}]';

/** A backend with one plugin, an authorization chain switched by `authz.on` and a gate by `startup.authzReady`. */
function backend() {
  const authz = { on: false };
  const startup = { authzReady: true, untilAuthzReady: () => Promise.resolve() };
  const chain: AuthzPort = {
    active: () => (authz.on ? ['example/authz'] : []),
    authorizeRequest: async (r) => {
      if (r.RequestUri.includes('deny')) throw new ForbiddenError('authorization denied by example/authz');
    },
    authorizeResponse: async () => {},
  };
  const b = {
    system: { facts: { version: '0.0.0-fake' }, warnings: () => [] },
    plugins: {
      list: () => [],
      listJson: (f?: PluginFilters) => (f?.enabled === false ? '[]' : Buffer.from(LISTING)),
    },
    authz: chain,
    startup: startup as StartupPort,
  } as unknown as Backend;
  return { b, authz, startup };
}

/** Writes `raw` on a new connection and reads until the server closes it (the last request says close). */
function exchange(socket: string, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(socket, () => s.end(raw));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () =>
      resolve(
        Buffer.concat(chunks)
          .toString()
          .replace(/\r\nDate: [^\r]*/g, ''),
      ),
    );
  });
}

const get = (url: string, extra = '') => `GET ${url} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

const REQUESTS = [
  get('/plugins'),
  get('/v1.41/plugins'),
  get('/v1.12/plugins'),
  get('/v1.11/plugins'),
  get('/v9.99/plugins'),
  get('/plugins?'),
  get(`/plugins?filters=${encodeURIComponent('{"enabled":["false"]}')}&filters=x`),
  get(`/v1.41/plugins?filters=${encodeURIComponent('{"enabled":{"true":true}}')}`),
  get(`/plugins?filters=${encodeURIComponent('{"enabled":["maybe"]}')}`),
  get(`/plugins?filters=${encodeURIComponent('{"colour":["red"]}')}`),
  get('/plugins?filters=%7Bnot-json'),
  get('/plugins/'),
  get('/plugin%73'),
  get('/plugins;x'),
  get('/PLUGINS'),
  get('/plugins', 'Content-Length: 2\r\nContent-Type: application/json\r\n').replace(
    /\r\n\r\n$/,
    '\r\n\r\n{}',
  ),
  `HEAD /plugins HTTP/1.1\r\nHost: x\r\n\r\n`,
  `POST /plugins HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
  get('/_ping'),
  get('/plugins/deny'),
];

describe('GET /plugins fast path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fast-path-'));
  const fast = backend();
  const slow = backend();
  const observed: [string[], string[]] = [[], []];
  const throughPipeline = [0, 0];
  let apps: ApiServer[] = [];
  before(async () => {
    apps = [createApi(fast.b), createApi(slow.b, { fastPath: false })];
    apps.forEach((app, i) => {
      const seen = observed[i] ?? [];
      observeRequests(app, { requestDone: (m, route, status) => seen.push(`${m} ${route} ${status}`) });
      app.addHook('onRequest', () => {
        throughPipeline[i] = (throughPipeline[i] ?? 0) + 1;
      });
    });
    await apps[0]?.listen({ path: join(dir, 'fast.sock') });
    await apps[1]?.listen({ path: join(dir, 'slow.sock') });
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every request on one keep-alive connection per app, the last one asking to close. */
  async function both(): Promise<[string, string]> {
    const raw = [...REQUESTS, get('/plugins', 'Connection: close\r\n')].join('');
    return [await exchange(join(dir, 'fast.sock'), raw), await exchange(join(dir, 'slow.sock'), raw)];
  }

  it('answers byte for byte as the pipeline does, and tells the observer the same', async () => {
    const [a, b] = await both();
    assert.ok(a.startsWith('HTTP/1.1 200 OK\r\napi-version: '), a.slice(0, 80));
    assert.ok(a.includes(LISTING) && a.includes('too old') && a.includes("Invalid filter 'colour'"));
    assert.equal(a, b);
    assert.deepEqual(observed[0], observed[1]);
    // Six plain listings and the last request skip the pipeline; malformed ones fail before its hooks in both.
    assert.equal((throughPipeline[1] ?? 0) - (throughPipeline[0] ?? 0), 7);
  });

  it('leaves the request to the pipeline while an authorization plugin is active or the gate holds', async () => {
    for (const setting of [
      () => Object.assign(fast.authz, { on: true }) && Object.assign(slow.authz, { on: true }),
      () =>
        Object.assign(fast.startup, { authzReady: false }) &&
        Object.assign(slow.startup, { authzReady: false }),
    ]) {
      setting();
      const [a, b] = await both();
      assert.ok(a.includes(LISTING) && a.includes('authorization denied'));
      assert.equal(a, b);
    }
  });
});
