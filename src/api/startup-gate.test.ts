/**
 * The startup gate over fakes (app.inject): while the authorization chain is not ready `/_ping` answers at once
 * and untouched by the chain, any other request is held and then served through the chain, or answered 503
 * without reaching it; once ready, nothing is exempt.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { UnavailableError } from '../errdefs/index.ts';
import { createApi } from './app.ts';
import type { Backend } from './backend.ts';
import type { AuthzPort, StartupPort } from './ports.ts';

const FACTS = { version: '0.0.0-fake', id: 'fake', name: 'fake' };

/** A startup that becomes ready (or gives up) when the test says so. */
function controlledStartup() {
  let open: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  ready.catch(() => undefined);
  const startup: StartupPort & { authzReady: boolean } = {
    authzReady: false,
    untilAuthzReady: () => ready,
  };
  return {
    startup,
    open: () => {
      startup.authzReady = true;
      open();
    },
    fail,
  };
}

function recordingAuthz(seen: string[]): AuthzPort {
  return {
    active: () => ['example/authz'],
    authorizeRequest: async (r) => void seen.push(`req ${r.RequestMethod} ${r.RequestUri}`),
    authorizeResponse: async (r, res) =>
      void seen.push(`res ${r.RequestMethod} ${r.RequestUri} ${res.ResponseStatusCode}`),
  };
}

function api(startup: StartupPort, seen: string[]) {
  const backend = {
    system: { facts: FACTS, warnings: () => [] },
    plugins: { list: () => [], listJson: () => '[]' },
    authz: recordingAuthz(seen),
    startup,
  } as unknown as Backend;
  return createApi(backend);
}

/** Whether `p` is still pending after the event loop had a few turns. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 20; i++) await setImmediate();
  return !settled;
}

describe('startup gate', () => {
  it('answers /_ping at once, holds the rest, then serves it through the authorization chain', async () => {
    const s = controlledStartup();
    const seen: string[] = [];
    const app = api(s.startup, seen);
    const ping = await app.inject({ method: 'GET', url: '/v1.41/_ping' });
    assert.equal(ping.statusCode, 200);
    assert.equal(ping.body, 'OK');
    assert.equal((await app.inject({ method: 'HEAD', url: '/_ping' })).statusCode, 200);
    const held = app.inject({ method: 'GET', url: '/v1.41/plugins' });
    assert.ok(await pending(held), 'GET /plugins is held while the chain is not ready');
    assert.deepEqual(seen, [], 'nothing reached the chain, which cannot answer yet');
    s.open();
    const res = await held;
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(seen, ['req GET /v1.41/plugins', 'res GET /v1.41/plugins 200']);
    await app.inject({ method: 'GET', url: '/_ping' });
    assert.deepEqual(
      seen.slice(2),
      ['req GET /_ping', 'res GET /_ping 200'],
      'once ready, /_ping is authorized too',
    );
    await app.close();
  });

  it('answers 503 naming the plugin when the hold is over, without asking the chain', async () => {
    const s = controlledStartup();
    const seen: string[] = [];
    const app = api(s.startup, seen);
    const held = app.inject({ method: 'DELETE', url: '/volumes/v1' });
    assert.ok(await pending(held));
    s.fail(new UnavailableError('starting: authorization plugin example/authz not ready'));
    const res = await held;
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.json(), { message: 'starting: authorization plugin example/authz not ready' });
    assert.deepEqual(seen, []);
    await app.close();
  });
});
