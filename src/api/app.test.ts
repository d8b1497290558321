import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { type InProcessApi, inProcessApi } from '../../test/api-backend.ts';
import { type Entry, tarball } from '../../test/fixtures/tarball.ts';
import type { PluginManager } from '../plugins/index.ts';
import { EventLog, eventMatches, parseEventTime } from './events.ts';
import { parseFilters, parseQueryString, queryBool } from './query.ts';
import type { ApiServer } from './server/server.ts';
import { API_VERSION } from './versions.ts';

const VALID_MANIFEST = {
  Entrypoint: ['/p'],
  Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'p.sock' },
};

describe('Engine API in process (app.inject)', () => {
  let api: InProcessApi;
  let app: ApiServer;
  let plugins: PluginManager;
  let events: EventLog;
  let dir: string;

  before(async () => {
    api = await inProcessApi();
    ({ app, plugins, events, dir } = api);
  });
  after(() => api.close());

  it("answers /_ping with Docker's headers, with and without a version prefix", async () => {
    for (const url of ['/_ping', '/v1.41/_ping', '/v1.24/_ping']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, 'OK');
      assert.equal(r.headers['api-version'], API_VERSION);
      assert.equal(r.headers.ostype, 'linux');
      assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    }
    assert.equal((await app.inject({ method: 'HEAD', url: '/_ping' })).statusCode, 200);
  });

  it('serves every version from 1.12 to the current one and refuses others with 400 and application/json', async () => {
    for (const v of ['1.12', '1.24', '1.41', '1.45', '1.50', API_VERSION])
      assert.equal((await app.inject({ url: `/v${v}/version` })).statusCode, 200, v);
    const r = await app.inject({ url: '/v1.99/version' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(r.json(), {
      message: `client version 1.99 is too new. Maximum supported API version is ${API_VERSION}`,
    });
    assert.match(
      (await app.inject({ url: '/v1.11/version' })).json().message,
      /too old. Minimum supported API version is 1.12/,
    );
  });

  it('answers 501 for Docker endpoint families berth does not serve, 404 for unknown paths', async () => {
    const vols = await app.inject({ url: '/v1.41/volumes' });
    assert.deepEqual([vols.statusCode, vols.json()], [200, { Volumes: [], Warnings: null }]);
    const local = await app.inject({ method: 'POST', url: '/volumes/create', payload: { Name: 'v1' } });
    assert.deepEqual(
      [local.statusCode, local.json().message],
      [400, 'berth has no built-in "local" driver: name a volume plugin with -d <plugin>'],
    );
    const c = await app.inject({ url: '/v1.41/containers/json' });
    assert.equal(c.statusCode, 501);
    assert.match(c.json().message, /berth does not implement \/containers yet/);
    const dist = await app.inject({ url: '/distribution/busybox/json' });
    assert.equal(dist.statusCode, 501);
    const pull = await app.inject({ method: 'POST', url: '/plugins/pull' });
    assert.deepEqual(
      [pull.statusCode, pull.json().message],
      [400, 'remote is required: the reference of the plugin in a registry'],
    );
    const nope = await app.inject({ url: '/nope' });
    assert.deepEqual([nope.statusCode, nope.json()], [404, { message: 'page not found' }]);
  });

  it('lists plugins as JSON identical to the Plugin objects, also after a set', async () => {
    const body = tarball([
      {
        path: 'config.json',
        body: JSON.stringify({ ...VALID_MANIFEST, Env: [{ Name: 'A', Settable: ['value'], Value: '1' }] }),
      },
      { path: 'rootfs/p', body: 'x' },
    ]);
    for (const name of ['l1', 'l2']) {
      const r = await app.inject({
        method: 'POST',
        url: `/plugins/create?name=${name}`,
        headers: { 'content-type': 'application/x-tar' },
        payload: body,
      });
      assert.equal(r.statusCode, 204, r.body);
    }
    const listed = async () => {
      const r = await app.inject({ url: '/plugins' });
      assert.equal(r.headers['content-type'], 'application/json');
      return r.body;
    };
    assert.equal(await listed(), JSON.stringify(plugins.list()));
    assert.equal(
      (await app.inject({ method: 'POST', url: '/plugins/l1/set', payload: ['A=2'] })).statusCode,
      204,
    );
    const after = await listed();
    assert.equal(after, JSON.stringify(plugins.list()));
    assert.deepEqual(JSON.parse(after).find((p: { Name: string }) => p.Name === 'l1:latest').Settings.Env, [
      'A=2',
    ]);
    const disabled = await app.inject({ url: '/plugins?filters={"enabled":["false"]}' });
    assert.equal(disabled.body, JSON.stringify(plugins.list({ enabled: false })));
    for (const name of ['l1', 'l2']) await app.inject({ method: 'DELETE', url: `/plugins/${name}` });
  });

  it('maps plugin errors to their status codes with the message', async () => {
    const r = await app.inject({ url: '/v1.41/plugins/research/vol:latest/json' });
    assert.deepEqual([r.statusCode, r.json()], [404, { message: 'plugin "research/vol:latest" not found' }]);
    const bad = await app.inject({
      url: `/plugins?filters=${encodeURIComponent('{"enabled":{"maybe":true}}')}`,
    });
    assert.deepEqual([bad.statusCode, bad.json()], [400, { message: "Invalid filter 'enabled=[maybe]'" }]);
    const key = await app.inject({ url: `/plugins?filters=${encodeURIComponent('{"foo":["x"]}')}` });
    assert.deepEqual([key.statusCode, key.json()], [400, { message: "Invalid filter 'foo'" }]);
    const set = await app.inject({ method: 'POST', url: '/plugins/x/set', payload: { not: 'an array' } });
    assert.equal(set.statusCode, 400);
    const create = await app.inject({ method: 'POST', url: '/plugins/create' });
    assert.deepEqual(
      [create.statusCode, create.json().message],
      [400, 'name is required: POST /plugins/create?name=NAME with a tar body'],
    );
    const timeout = await app.inject({ method: 'POST', url: '/plugins/x/enable?timeout=-1' });
    assert.equal(timeout.statusCode, 400);
    assert.equal((await app.inject({ url: '/plugins' })).json().length, 0);
  });

  it('accepts an empty JSON body and names bad JSON', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/runtimes/check',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(r.statusCode, 200);
    const bad = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /request body is not valid JSON/);
  });

  it('serves /version and /info in Docker shapes with berth runtime data', async () => {
    const v = (await app.inject({ url: '/version' })).json();
    assert.equal(v.ApiVersion, API_VERSION);
    assert.equal(v.MinAPIVersion, '1.12');
    assert.equal(v.Components[0].Name, 'Engine');
    const info = (await app.inject({ url: '/info' })).json();
    assert.deepEqual(Object.keys(info.Runtimes), ['runc', 'io.containerd.runc.v2']);
    assert.equal(info.DefaultRuntime, 'runc');
    assert.deepEqual(info.Plugins.Volume, []);
  });

  it('answers arbitrary bodies, names and queries with a 4xx, never a 500 (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue(),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        async (body, name, query) => {
          const q = encodeURIComponent(query);
          const requests = [
            { method: 'POST' as const, url: '/plugins/x/set', payload: JSON.stringify(body) },
            { method: 'POST' as const, url: '/volumes/create', payload: JSON.stringify(body) },
            { method: 'GET' as const, url: `/plugins/${encodeURIComponent(name)}/json` },
            { method: 'POST' as const, url: `/plugins/${encodeURIComponent(name)}/enable?timeout=${q}` },
            { method: 'GET' as const, url: `/plugins?filters=${q}` },
            { method: 'GET' as const, url: `/volumes?filters=${q}` },
            { method: 'GET' as const, url: `/events?since=${q}&until=1` },
            { method: 'GET' as const, url: `/runtimes/${encodeURIComponent(name)}` },
          ];
          for (const r of requests) {
            const res = await app.inject({ ...r, headers: { 'content-type': 'application/json' } });
            assert.ok(
              res.statusCode < 500,
              `${r.method} ${r.url} ${r.payload ?? ''} → ${res.statusCode} ${res.body}`,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers arbitrary plugin archives with 204 or a 400 naming the problem, leaving no partial state (fast-check)', async () => {
    const segment = fc.constantFrom('rootfs', '..', '.', 'a', 'etc', '', 'config.json');
    const entry = fc.record({
      path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join('/')),
      type: fc.constantFrom(
        'File',
        'Directory',
        'SymbolicLink',
        'Link',
        'FIFO',
        'CharacterDevice',
      ) as fc.Arbitrary<NonNullable<Entry['type']>>,
      body: fc.oneof(fc.string({ maxLength: 12 }), fc.constant(JSON.stringify(VALID_MANIFEST))),
      linkpath: fc.constantFrom('/etc', '../../..', 'a', 'rootfs'),
    });
    const before = (await app.inject({ url: '/plugins' })).json().length;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 10 }), fc.boolean(), async (entries, gzip) => {
        const body = tarball(entries);
        const res = await app.inject({
          method: 'POST',
          url: '/plugins/create?name=fuzzed',
          headers: { 'content-type': 'application/x-tar' },
          payload: gzip ? gzipSync(body) : body,
        });
        assert.ok([204, 400].includes(res.statusCode), `${res.statusCode} ${res.body}`);
        if (res.statusCode === 400) assert.ok(res.json().message.length > 10, res.body);
        else {
          assert.equal((await app.inject({ method: 'DELETE', url: '/plugins/fuzzed' })).statusCode, 200);
        }
        assert.deepEqual(readdirSync(join(dir, 'data', 'plugins', 'tmp')), []);
      }),
      { numRuns: 150 },
    );
    assert.equal((await app.inject({ url: '/plugins' })).json().length, before);
  });

  it("reads a repeated query parameter as Go's url.Values.Get: the first value", async () => {
    const enable = await app.inject({ method: 'POST', url: '/plugins/nope/enable?timeout=abc&timeout=5' });
    assert.equal(enable.statusCode, 400);
    assert.match(enable.json().message, /got "abc"$/);
    const filters = encodeURIComponent('{"enabled":["true"]}');
    const list = await app.inject({ url: `/v1.41/plugins?filters=${filters}&filters=x` });
    assert.equal(list.statusCode, 200, list.body);
  });

  it('replays events since a time, filtered, and ends at until', async () => {
    events.publish(
      { Type: 'plugin', Action: 'create', Actor: { ID: 'a'.repeat(64), Attributes: { name: 'p:latest' } } },
      1_700_000_000_000,
    );
    events.publish(
      { Type: 'daemon', Action: 'reload', Actor: { ID: 'd', Attributes: {} } },
      1_700_000_001_000,
    );
    const r = await app.inject({
      url: `/events?since=1699999999&until=1700000002&filters=${encodeURIComponent('{"type":{"plugin":true}}')}`,
    });
    assert.equal(r.statusCode, 200);
    const lines = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((e) => [e.Type, e.Action, e.time]),
      [['plugin', 'create', 1_700_000_000]],
    );
    assert.equal((await app.inject({ url: '/events?since=yesterday' })).statusCode, 400);
  });
});

describe('query helpers', () => {
  it("reads Docker's booleans", () => {
    for (const f of [undefined, '', '0', 'no', 'FALSE', 'none']) assert.equal(queryBool(f), false, String(f));
    for (const t of ['1', 'true', 'yes', 'x']) assert.equal(queryBool(t), true, t);
  });

  it('parses query strings as Go does: first value wins, + is a space, percent-decoding', () => {
    assert.deepEqual({ ...parseQueryString('a=1&a=2&b=x+y&c=%2F&d') }, { a: '1', b: 'x y', c: '/', d: '' });
    assert.equal(Object.getOwnPropertyDescriptor(parseQueryString('__proto__=1'), '__proto__')?.value, '1');
  });

  it('reads both filter encodings', () => {
    assert.deepEqual(
      [...parseFilters('{"a":{"x":true,"y":true},"b":["z"]}')],
      [
        ['a', ['x', 'y']],
        ['b', ['z']],
      ],
    );
    assert.throws(() => parseFilters('{'), /invalid filters/);
    assert.throws(() => parseFilters('[1]'), /expected \{"key"/);
  });

  it('parses event times to nanoseconds and matches filters', () => {
    assert.equal(parseEventTime('1700000000.5', 'since'), 1_700_000_000_500_000_000);
    assert.throws(() => parseEventTime('-1', 'since'), /since must be a unix timestamp/);
    const e = new EventLog().publish({
      Type: 'plugin',
      Action: 'enable',
      Actor: { ID: 'abc123', Attributes: { name: 'vol' } },
    });
    assert.ok(eventMatches(e, new Map([['plugin', ['vol']]])));
    assert.ok(
      eventMatches(
        e,
        new Map([
          ['plugin', ['abc']],
          ['event', ['enable', 'disable']],
        ]),
      ),
    );
    assert.equal(eventMatches(e, new Map([['type', ['daemon']]])), false);
  });
});
