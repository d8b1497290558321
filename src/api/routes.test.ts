/**
 * The routes over an in-memory fake backend (light-my-request's `inject`, as hono tests routes with `app.request()`): status
 * codes, Docker's shapes and what reaches each port, with no disk, registry or container behind them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fakeBackend, ID, VOLUME } from '../../test/fixtures/fake-backend.ts';
import { ForbiddenError } from '../errdefs/index.ts';
import { createApi } from './app.ts';
import type { EventLog } from './events.ts';
import type { ApiServer } from './server/server.ts';
import { API_VERSION } from './versions.ts';

describe('routes over a fake backend (app.inject, no disk)', () => {
  let backend: ReturnType<typeof fakeBackend>;
  let app: ApiServer;
  before(() => {
    backend = fakeBackend();
    app = createApi(backend);
  });
  after(() => app.close());
  const last = () => backend.calls.at(-1);

  it('lists and inspects plugins in their Docker shape, 404 naming an unknown one', async () => {
    const list = await app.inject({
      url: `/plugins?filters=${encodeURIComponent('{"enabled":{"true":true}}')}`,
    });
    assert.equal(list.statusCode, 200);
    assert.equal(list.headers['content-type'], 'application/json');
    assert.deepEqual(last(), ['list', { enabled: true }]);
    const [p] = list.json();
    assert.deepEqual(Object.keys(p).sort(), ['Config', 'Enabled', 'Id', 'Name', 'Settings', 'Status']);
    const inspect = await app.inject({ url: '/v1.41/plugins/research/vol:latest/json' });
    assert.deepEqual([inspect.statusCode, inspect.json().Id], [200, ID]);
    const missing = await app.inject({ url: '/plugins/nope/json' });
    assert.deepEqual([missing.statusCode, missing.json()], [404, { message: 'plugin "nope" not found' }]);
  });

  it('passes enable, disable, set and rm to the plugin port with their options', async () => {
    const cases: [string, string, unknown, number, unknown[]][] = [
      [
        'POST',
        '/plugins/research/vol/enable?timeout=5',
        undefined,
        200,
        ['enable', 'research/vol', { timeoutMs: 5000 }],
      ],
      [
        'POST',
        '/plugins/research/vol/disable?force=1',
        undefined,
        200,
        ['disable', 'research/vol', { force: true }],
      ],
      ['POST', '/plugins/research/vol/set', ['DEBUG=1'], 204, ['set', 'research/vol', ['DEBUG=1']]],
      [
        'POST',
        '/plugins/research/vol/set?restart=1&force=1',
        ['A=1'],
        204,
        ['set', 'research/vol', ['A=1'], { restart: true, force: true }],
      ],
      [
        'POST',
        '/plugins/research/vol/update?restart=true',
        { resources: { memory: 1 << 26 }, x: 1 },
        200,
        [
          'update',
          'research/vol',
          { resources: { Memory: 1 << 26 }, warnings: ['body.x: unknown key ignored'] },
          { restart: true, force: false },
        ],
      ],
      [
        'DELETE',
        '/plugins/research/vol:latest?force=true',
        undefined,
        200,
        ['remove', 'research/vol:latest', { force: true }],
      ],
    ];
    for (const [method, url, payload, status, call] of cases) {
      const r = await app.inject({ method: method as 'POST', url, ...(payload ? { payload } : {}) });
      assert.equal(r.statusCode, status, `${url}: ${r.body}`);
      assert.deepEqual(last(), call);
    }
    const bad = await app.inject({ method: 'POST', url: '/plugins/research/vol/set', payload: { A: 1 } });
    assert.equal(bad.statusCode, 400);
    const update = (payload: object) =>
      app.inject({ method: 'POST', url: '/plugins/research/vol/update', payload });
    assert.deepEqual((await update({ Resources: {}, Bad: 1 })).json(), {
      Warnings: ['body.Bad: unknown key ignored'],
    });
    const badLimit = await update({ Resources: { Memory: '1g' } });
    assert.deepEqual(
      [badLimit.statusCode, badLimit.json().message],
      [400, 'body.Resources.Memory must be integer, not "1g"'],
    );
    const timeout = await app.inject({ method: 'POST', url: '/plugins/research/vol/enable?timeout=soon' });
    assert.match(timeout.json().message, /timeout must be a non-negative integer of seconds, got "soon"/);
    assert.equal((await app.inject({ method: 'DELETE', url: '/plugins/nope' })).statusCode, 404);
    const taken = await app.inject({ method: 'POST', url: '/plugins/create?name=taken', payload: 'tar' });
    assert.deepEqual([taken.statusCode, taken.json().message], [409, 'plugin taken:latest already exists']);
  });

  it("serves a plugin's log through the logs port, followed or not, 404 for an unknown plugin", async () => {
    const r = await app.inject({ url: '/plugins/research/vol/logs' });
    assert.deepEqual([r.statusCode, r.body], [200, 'log of research/vol:latest\n']);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    const followed = await app.inject({ url: '/plugins/research/vol/logs?follow=1' });
    assert.deepEqual([followed.statusCode, followed.body], [200, 'one\ntwo\n']);
    for (const q of ['', '?follow=1'])
      assert.equal((await app.inject({ url: `/plugins/nope/logs${q}` })).statusCode, 404, q);
  });

  it('streams a pull as progress lines with Docker-Plugin-Name; errors before it keep their status', async () => {
    const ok = await app.inject({ method: 'POST', url: '/plugins/pull?remote=example/vol' });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['docker-plugin-name'], 'example/vol:latest');
    assert.deepEqual(
      ok.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [{ status: 'Downloading' }],
    );
    const late = await app.inject({ method: 'POST', url: '/plugins/pull?remote=late-failure' });
    assert.deepEqual(JSON.parse(late.body.trim().split('\n').at(-1) ?? ''), {
      errorDetail: { message: 'the registry hung up' },
      error: 'the registry hung up',
    });
    assert.equal((await app.inject({ method: 'POST', url: '/plugins/pull?remote=missing' })).statusCode, 404);
    const privileges = await app.inject({ url: '/plugins/privileges?remote=example/vol' });
    assert.deepEqual(privileges.json(), [{ Name: 'network', Description: '', Value: ['host'] }]);
  });

  it('serves volumes: list (dangling=false is empty), create 201, inspect 404, rm 204, prune', async () => {
    const list = await app.inject({ url: `/volumes?filters=${encodeURIComponent('{"name":{"v1":true}}')}` });
    assert.deepEqual(list.json(), { Volumes: [VOLUME], Warnings: null });
    assert.deepEqual(last(), ['volumes', { name: ['v1'] }]);
    const dangling = await app.inject({
      url: `/volumes?filters=${encodeURIComponent('{"dangling":["false"]}')}`,
    });
    assert.deepEqual(dangling.json(), { Volumes: [], Warnings: null });
    const created = await app.inject({ method: 'POST', url: '/volumes/create', payload: { name: 'v2' } });
    assert.deepEqual([created.statusCode, created.json().Name], [201, 'v2']);
    const bad = await app.inject({ method: 'POST', url: '/volumes/create', payload: { Labels: { a: 1 } } });
    assert.deepEqual([bad.statusCode, bad.json().message], [400, 'Labels must be an object of strings']);
    assert.equal((await app.inject({ url: '/volumes/v9' })).statusCode, 404);
    const rm = await app.inject({ method: 'DELETE', url: '/volumes/v1?force=1' });
    assert.deepEqual([rm.statusCode, last()], [204, ['volume rm', 'v1', { force: true }]]);
    const prune = await app.inject({ method: 'POST', url: '/volumes/prune' });
    assert.deepEqual(prune.json(), { VolumesDeleted: ['v1'], SpaceReclaimed: 0 });
  });

  it('serves runtimes: list, inspect, 404, reload with its diff', async () => {
    const [view] = (await app.inject({ url: '/runtimes' })).json();
    assert.deepEqual([view.Name, view.Default, view.Kind, view.Status.Health], ['runc', true, 'runc', 'ok']);
    assert.equal((await app.inject({ url: '/runtimes/runc' })).json().Binary, '/usr/bin/runc');
    assert.equal((await app.inject({ url: '/runtimes/crun' })).statusCode, 404);
    const reload = (await app.inject({ method: 'POST', url: '/runtimes/reload' })).json();
    assert.deepEqual([reload.Generation, reload.Changed, reload.Runtimes.length], [1, ['runc'], 1]);
  });

  it('answers /version and /info from the system facts, runtimes and enabled volume plugins', async () => {
    const v = (await app.inject({ url: '/version' })).json();
    assert.deepEqual([v.Version, v.ApiVersion, v.KernelVersion], ['0.0.0-fake', API_VERSION, '6.1']);
    assert.deepEqual(v.Components[1], { Name: 'runc', Version: '1.2.3', Details: { GitCommit: '' } });
    const r = await app.inject({ url: '/info' });
    assert.equal(r.headers.server, 'berth/0.0.0-fake (linux)');
    const info = r.json();
    assert.deepEqual([info.ID, info.CgroupVersion, info.DockerRootDir], ['fake-id', '2', '/nowhere/data']);
    assert.deepEqual(info.Plugins.Volume, ['research/vol:latest']);
    assert.deepEqual(last(), ['list', { enabled: true, capability: ['volumedriver'] }]);
    assert.deepEqual(info.Warnings, ['WARNING: a kept file could not be read']);
    assert.deepEqual(Object.keys(info.Runtimes), ['runc']);
  });

  it('replays events from the events port, filtered, until the end time', async () => {
    const log = backend.events as EventLog;
    log.publish({ Type: 'plugin', Action: 'enable', Actor: { ID, Attributes: {} } }, 1_700_000_000_000);
    log.publish({ Type: 'volume', Action: 'create', Actor: { ID: 'v1', Attributes: {} } }, 1_700_000_000_500);
    const r = await app.inject({
      url: `/events?since=1699999999&until=1700000001&filters=${encodeURIComponent('{"type":["volume"]}')}`,
    });
    assert.equal(r.statusCode, 200);
    const [e, ...rest] = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual([e.Type, e.Action, e.Actor.ID, rest.length], ['volume', 'create', 'v1', 0]);
    assert.equal((await app.inject({ url: '/events?filters={"color":["red"]}' })).statusCode, 400);
  });

  it('answers 501 for run logs when the runs port has no log reader', async () => {
    assert.equal((await app.inject({ url: '/runs/abc/logs' })).statusCode, 501);
  });
});

describe('routes over a fake backend: the authorization port', () => {
  it('refuses with 403 and the message when the chain denies, and lets requests through when none is active', async () => {
    let names: string[] = ['deny-all'];
    const app = createApi(
      fakeBackend({
        active: () => names,
        authorizeRequest: async (req) => {
          throw new ForbiddenError(
            `authorization denied by plugin deny-all: ${req.RequestMethod} ${req.RequestUri}`,
          );
        },
        authorizeResponse: async () => {},
      }),
    );
    const r = await app.inject({ url: '/v1.41/plugins' });
    assert.deepEqual(
      [r.statusCode, r.json()],
      [403, { message: 'authorization denied by plugin deny-all: GET /v1.41/plugins' }],
    );
    names = [];
    assert.equal((await app.inject({ url: '/plugins' })).statusCode, 200);
    await app.close();
  });
});
