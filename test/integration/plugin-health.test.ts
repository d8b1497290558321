/**
 * Health checks through a real berthd with runc: a plugin (the behave fixture) that stops answering while its
 * process lives turns unhealthy after the probes set through `berth plugin update`, `health_status` events say so
 * on /events, and the supervisor restarts it (a new pid) until it is healthy again. (That the settings are read
 * back from the state file is src/plugins/supervision/health-watch.test.ts's: a berthd restart costs seconds.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { packageNodePlugin } from '../../examples/local-volume/package.ts';
import { socketAddress } from '../../src/host/index.ts';
import { runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const FIXTURE = new URL('../fixtures/plugins/behave.ts', import.meta.url).pathname;
const NAME = 'test/health:latest';

describe('plugin health checks under runc', { skip, timeout: 60_000 }, () => {
  let d: TestDaemon;
  let agent: Agent;
  let ctx: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(`http://berth${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: () => JSON.parse(text) };
  };
  const status = async () => (await call('GET', `/plugins/${NAME}/json`)).json().Status;

  before(async () => {
    d = testDaemon('berth-health');
    ctx = await packageNodePlugin({
      source: FIXTURE,
      manifest: {
        Entrypoint: ['/usr/bin/node', '/plugin/plugin.js'],
        Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'behave.sock' },
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

  it('restarts a plugin that stops answering, with health_status events, until it is healthy again', async () => {
    assert.equal((await runBerth(d.host, ['plugin', 'create', NAME, ctx])).code, 0);
    const bad = await call('POST', `/plugins/${NAME}/update`, { Health: { Interval: -5 } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json().message, /^body.Health.Interval cannot be less than 1ms/);
    const update = await runBerth(d.host, [
      'plugin',
      'update',
      '--health-interval',
      '200ms',
      '--health-timeout',
      '150ms',
      '--health-retries',
      '2',
      NAME,
    ]);
    assert.deepEqual([update.code, update.stdout, update.stderr], [0, `${NAME}\n`, '']);

    const events: { Action: string; Actor: { ID: string; Attributes: { name: string } } }[] = [];
    const filters = encodeURIComponent(
      JSON.stringify({ type: ['plugin'], event: ['health_status', 'restart'] }),
    );
    // Headers come with the first event: not awaited here.
    const stream = request(`http://berth/v1.41/events?filters=${filters}`, { dispatcher: agent }).then(
      (res) => {
        let partial = '';
        res.body.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines.filter(Boolean)) events.push(JSON.parse(line));
        });
        return res;
      },
    );
    assert.equal((await call('POST', `/plugins/${NAME}/enable`)).status, 200);
    await waitFor(() => events.length > 0, 5000, 'the first health_status event');
    const first = await status();
    assert.equal(first.Health.Status, 'healthy');
    assert.match(
      first.Health.Log[0].Output,
      /^Plugin.Activate answered HTTP 200: \{"Implements":\["VolumeDriver"\]\}$/,
    );
    const ls = await runBerth(d.host, ['plugin', 'ls']);
    assert.match(ls.stdout, /STATE\s+HEALTH\n.*test\/health:latest.*running\s+healthy\n$/);

    const { Id } = (await call('GET', `/plugins/${NAME}/json`)).json();
    const address = socketAddress(join(d.execRoot, 'plugins', Id), 'behave.sock');
    const hang = await request('http://plugin/Behave.Hang', {
      method: 'POST',
      dispatcher: new Agent({ connect: { socketPath: address.path } }),
    });
    await hang.body.text();
    address.close();

    await waitFor(() => events.some((e) => e.Action === 'restart'), 10_000, 'the restart');
    await waitFor(
      () => events.filter((e) => e.Action === 'health_status: healthy').length === 2,
      5000,
      'healthy again',
    );
    assert.deepEqual(
      events.map((e) => `${e.Action} ${e.Actor.Attributes.name} ${e.Actor.ID === Id}`),
      [
        `health_status: healthy ${NAME} true`,
        `health_status: unhealthy ${NAME} true`,
        `restart ${NAME} true`,
        `health_status: healthy ${NAME} true`,
      ],
    );
    const again = await status();
    assert.notEqual(again.Pid, first.Pid, 'a new process');
    assert.equal(again.Restarts, 1);
    assert.equal(again.State, 'running');
    (await stream).body.destroy();
  });
});
