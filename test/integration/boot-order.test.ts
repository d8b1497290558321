/**
 * Boot order through a real berthd and runc, across restarts, with plugins slow to start (START_DELAY_MS): berthd
 * listens at once and `/_ping` answers while its authorization plugin is still starting; every other request is
 * held and then served through that plugin (its policy applies), or answered 503 naming it once the hold
 * (BERTHD_STARTUP_HOLD_TIMEOUT_MS) is over; a volume request for a driver still being restored waits for it, or
 * gets a 503 naming the driver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const FIXTURE = new URL('../fixtures/plugins/slow-start.ts', import.meta.url).pathname;
const DELAY_MS = '1000';
const manifest = (type: string, extra: Record<string, unknown>) => ({
  Entrypoint: ['/usr/bin/node', '/plugin/plugin.js'],
  Interface: { Types: [type], Socket: 'slow.sock' },
  Env: [
    { Name: 'START_DELAY_MS', Settable: ['value'], Value: DELAY_MS },
    { Name: 'DENY_PATTERN', Settable: ['value'], Value: '^DELETE /volumes/' },
  ],
  ...extra,
});

describe('boot order: authorization plugins first, requests held, volume drivers waited for', {
  skip,
  timeout: 90_000,
}, () => {
  let d: TestDaemon;
  let agent: Agent;
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
  const restart = async (env: Record<string, string | undefined>) => {
    await d.stop();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await d.start(['--no-runtime-smoke-test'], { until: 'listening' });
  };
  const ready = (from: number) =>
    waitFor(() => d.log().includes('berthd ready', from), 20_000, 'berthd ready');

  before(async () => {
    d = testDaemon('berth-boot-order');
    d.writeConfig({ 'authorization-plugins': ['slow/authz'] });
    const authzCtx = await packageNodePlugin({
      source: FIXTURE,
      manifest: manifest('docker.authz/1.0', {}),
      outDir: join(d.dir, 'authz ctx'),
    });
    // The same program as a volume driver: a hard-linked copy with its own manifest.
    const volCtx = join(d.dir, 'vol ctx');
    execFileSync('cp', ['-al', authzCtx, volCtx]);
    rmSync(join(volCtx, 'config.json'));
    writeFileSync(
      join(volCtx, 'config.json'),
      JSON.stringify(manifest('docker.volumedriver/1.0', { PropagatedMount: '/data' })),
    );
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
    for (const [name, ctx] of [
      ['slow/authz', authzCtx],
      ['slow/vol', volCtx],
    ] as const)
      assert.equal((await runBerth(d.host, ['plugin', 'create', name, ctx])).code, 0);
    const enabled = await Promise.all([
      call('POST', '/plugins/slow/authz/enable'),
      call('POST', '/plugins/slow/vol/enable'),
    ]);
    assert.deepEqual(
      enabled.map((r) => r.status),
      [200, 200],
      enabled.map((r) => r.text).join(),
    );
    assert.equal((await call('POST', '/volumes/create', { Name: 'v1', Driver: 'slow/vol' })).status, 201);
  });
  after(async () => {
    if (process.env.DEBUG_BERTHD) console.error(d.log());
    delete process.env.BERTHD_STARTUP_HOLD_TIMEOUT_MS;
    await agent?.close();
    await d?.cleanup();
  });

  it('answers /_ping at once, holds the rest until the authorization plugin runs, then serves it through it; a volume request waits for its driver', async () => {
    const from = d.log().length;
    await restart({ BERTHD_STARTUP_HOLD_TIMEOUT_MS: undefined });
    const held = Promise.all([
      call('GET', '/v1.41/plugins'),
      call('DELETE', '/v1.41/volumes/v1'),
      call('POST', '/v1.41/volumes/create', { Name: 'v2', Driver: 'slow/vol' }),
      call('GET', '/v1.41/volumes/v1'),
    ]);
    const ping = await call('GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.text, 'OK');
    const [list, denied, created, inspected] = await held;
    assert.ok(ping.ms < list.ms, `ping ${ping.ms} ms, plugins ${list.ms} ms`);
    assert.ok(
      ping.ms < Number(DELAY_MS),
      `ping answered in ${ping.ms} ms; the plugins take ${DELAY_MS} ms to start`,
    );
    assert.equal(list.status, 200, list.text);
    const state = (name: string) =>
      (list.json() as { Name: string; Status: { State: string } }[]).find((p) => p.Name === name)?.Status
        .State;
    assert.equal(state('slow/authz:latest'), 'running', 'served once the authorization plugin runs');
    assert.equal(denied.status, 403, 'held requests go through the authorization plugin');
    assert.match(
      denied.text,
      /authorization denied by plugin slow\/authz: DELETE \/volumes\/v1 is denied by policy/,
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(inspected.status, 200, inspected.text);
    assert.deepEqual(inspected.json().Status, { slow: 'yes' }, 'answered by the driver, once restored');
    await ready(from);
    assert.ok(
      d.log().indexOf('berthd listening', from) < d.log().indexOf('authorization plugins restored', from),
    );
  });

  it('answers 503 naming the authorization plugin, then the volume driver, once the hold is over', async () => {
    const from = d.log().length;
    await restart({ BERTHD_STARTUP_HOLD_TIMEOUT_MS: '300' });
    const first = await call('GET', '/plugins');
    assert.equal(first.status, 503, first.text);
    assert.deepEqual(first.json(), { message: 'starting: authorization plugin slow/authz not ready' });
    assert.ok(first.ms < 1500, `held ${first.ms} ms for a 300 ms hold`);
    let list = first;
    while (list.status === 503) list = await call('GET', '/plugins');
    assert.equal(list.status, 200, list.text);
    // The authorization plugin runs; the volume driver starts only now and needs DELAY_MS.
    const early = await call('POST', '/volumes/create', { Name: 'v3', Driver: 'slow/vol' });
    assert.equal(early.status, 503, early.text);
    assert.deepEqual(early.json(), { message: 'starting: volume driver slow/vol:latest not ready' });
    await ready(from);
    assert.equal((await call('POST', '/volumes/create', { Name: 'v3', Driver: 'slow/vol' })).status, 201);
  });
});
