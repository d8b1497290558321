/**
 * The mapping from the lower layers' observation points (plugin events, command timings, RPC calls, runtime
 * probes, API requests) onto the exposition text, with synthetic inputs: what a scrape shows after each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineError, UnavailableError } from '../errdefs/index.ts';
import type { Plugin } from '../plugins/index.ts';
import type { RuntimeProbe, RuntimeSet, RuntimeStatus } from '../runtimes/index.ts';
import { BerthMetrics } from './berth-metrics.ts';
import { healthOf, type PluginEventLike, type PluginLike } from './plugin-metrics.ts';
import { kindLabel } from './rpc-metrics.ts';

const VOL = { Id: 'a'.repeat(64), Name: 'research/vol:latest', Enabled: true, Status: { State: 'running' } };
const LOG = {
  Id: 'b'.repeat(64),
  Name: 'research/log:latest',
  Enabled: false,
  Status: { State: 'disabled' },
};

function event(
  Action: string,
  id: string,
  name: string,
  extra: Record<string, string> = {},
): PluginEventLike {
  return { Action, Actor: { ID: id, Attributes: { name, ...extra } } };
}

/** The sample `series` (name plus labels exactly as printed) of a scrape, undefined when absent. */
async function sample(m: BerthMetrics, series: string): Promise<number | undefined> {
  const line = (await m.text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function daemon(plugins: PluginLike[] = [VOL as PluginLike, LOG as PluginLike]): BerthMetrics {
  const m = new BerthMetrics({ version: '0.1.0-test', processMetrics: false });
  m.plugins.watch(() => plugins);
  return m;
}

describe('plugin metrics', () => {
  it('counts plugins by desired state and run state at scrape time', async () => {
    const plugins = [VOL as PluginLike, LOG as PluginLike];
    const m = daemon(plugins);
    assert.equal(await sample(m, 'berth_plugins{state="enabled"}'), 1);
    assert.equal(await sample(m, 'berth_plugins{state="disabled"}'), 1);
    assert.equal(await sample(m, 'berth_plugins_run_state{state="running"}'), 1);
    assert.equal(await sample(m, 'berth_plugins_run_state{state="failed"}'), 0);
    plugins.push({
      ...LOG,
      Id: 'c'.repeat(64),
      Name: 'x/y:latest',
      Enabled: true,
      Status: { State: 'failed' },
    });
    assert.equal(await sample(m, 'berth_plugins{state="enabled"}'), 2);
    assert.equal(await sample(m, 'berth_plugins_run_state{state="failed"}'), 1);
    assert.equal(await sample(m, 'berth_build_info{version="0.1.0-test"}'), 1);
  });

  it('counts crashes, restarts and give-ups per plugin name, from 0, whatever name the event was typed with', async () => {
    const m = daemon();
    assert.equal(await sample(m, 'berth_plugin_crashes_total{plugin="research/vol:latest"}'), 0);
    m.plugins.observeEvent(event('crash', VOL.Id, VOL.Name, { exitCode: '137' }));
    m.plugins.observeEvent(event('restart', VOL.Id, VOL.Name));
    m.plugins.observeEvent(event('crash', VOL.Id, VOL.Name, { exitCode: '1' }));
    m.plugins.observeEvent(event('failed', VOL.Id, VOL.Name));
    m.plugins.observeEvent(event('disable', VOL.Id, 'aaaa')); // typed as an id prefix
    assert.equal(await sample(m, 'berth_plugin_crashes_total{plugin="research/vol:latest"}'), 2);
    assert.equal(await sample(m, 'berth_plugin_restarts_total{plugin="research/vol:latest"}'), 1);
    assert.equal(await sample(m, 'berth_plugin_restarts_exhausted_total{plugin="research/vol:latest"}'), 1);
    assert.equal(await sample(m, 'berth_plugin_crashes_total{plugin="aaaa"}'), undefined);
    // A plugin created after the start has its counters at 0 from its create event.
    m.plugins.observeEvent(event('create', 'd'.repeat(64), 'new/one:latest'));
    assert.equal(await sample(m, 'berth_plugin_restarts_total{plugin="new/one:latest"}'), 0);
  });

  it('maps health_status events onto the health gauge, counting enabled plugins only', async () => {
    const plugins = [VOL as PluginLike, { ...LOG, Enabled: true } as PluginLike];
    const m = daemon(plugins);
    const health = (h: string) => sample(m, `berth_plugins_health{health="${h}"}`);
    assert.deepEqual(
      [await health('starting'), await health('healthy'), await health('unhealthy')],
      [0, 0, 0],
    );
    m.plugins.observeEvent(event('health_status: starting', VOL.Id, VOL.Name));
    m.plugins.observeEvent(event('health_status: healthy', LOG.Id, LOG.Name));
    assert.deepEqual(
      [await health('starting'), await health('healthy'), await health('unhealthy')],
      [1, 1, 0],
    );
    m.plugins.observeEvent(event('health_status: unhealthy', VOL.Id, VOL.Name));
    m.plugins.observeEvent(event('health_status: bogus', LOG.Id, LOG.Name)); // not a health: ignored
    assert.deepEqual(
      [await health('starting'), await health('healthy'), await health('unhealthy')],
      [0, 1, 1],
    );
    plugins[1] = { ...LOG, Enabled: false } as PluginLike;
    m.plugins.observeEvent(event('disable', LOG.Id, LOG.Name));
    assert.equal(await health('healthy'), 0);
    m.plugins.observeEvent(event('crash', VOL.Id, VOL.Name)); // the probed process is gone
    assert.equal(await health('unhealthy'), 0);
  });

  it('reads the health from the action or a health_status attribute', () => {
    assert.equal(healthOf(event('health_status: healthy', VOL.Id, VOL.Name)), 'healthy');
    assert.equal(healthOf(event('health_status:unhealthy', VOL.Id, VOL.Name)), 'unhealthy');
    assert.equal(
      healthOf(event('health_status', VOL.Id, VOL.Name, { health_status: 'starting' })),
      'starting',
    );
    assert.equal(healthOf(event('enable', VOL.Id, VOL.Name)), undefined);
  });

  it('times enable and disable by plugin and outcome, and leaves other commands out', async () => {
    const m = daemon();
    const plugin = { Name: VOL.Name } as Plugin;
    m.plugins.commandDone({ command: 'enable', plugin, seconds: 0.3 });
    m.plugins.commandDone({ command: 'enable', plugin, seconds: 12, error: new Error('socket never came') });
    m.plugins.commandDone({ command: 'disable', plugin, seconds: 0.02 });
    m.plugins.commandDone({ command: 'set', plugin, seconds: 0.001 });
    const enable = 'berth_plugin_enable_duration_seconds';
    assert.equal(await sample(m, `${enable}_count{plugin="${VOL.Name}",outcome="success"}`), 1);
    assert.equal(await sample(m, `${enable}_bucket{le="0.5",plugin="${VOL.Name}",outcome="success"}`), 1);
    assert.equal(await sample(m, `${enable}_count{plugin="${VOL.Name}",outcome="error"}`), 1);
    assert.equal(await sample(m, `${enable}_bucket{le="10",plugin="${VOL.Name}",outcome="error"}`), 0);
    assert.equal(
      await sample(m, `berth_plugin_disable_duration_seconds_sum{plugin="${VOL.Name}",outcome="success"}`),
      0.02,
    );
    assert.doesNotMatch(await m.text(), /set_duration/);
  });

  it('records RPC latency by plugin and method, and errors by kind', async () => {
    const m = daemon();
    m.plugins.callDone(VOL.Name, 'VolumeDriver.Mount', 0.004);
    m.plugins.callDone(VOL.Name, 'VolumeDriver.Mount', 60, new DeadlineError('no answer'));
    m.plugins.callDone(VOL.Name, 'VolumeDriver.List', 15, new UnavailableError('not reachable'));
    m.plugins.callDone(VOL.Name, 'VolumeDriver.List', 0.01, new Error('plain'));
    const rpc = 'berth_plugin_rpc_duration_seconds';
    const labels = (method: string) => `plugin="${VOL.Name}",method="${method}"`;
    assert.equal(await sample(m, `${rpc}_count{${labels('VolumeDriver.Mount')}}`), 2);
    assert.equal(await sample(m, `${rpc}_bucket{le="0.005",${labels('VolumeDriver.Mount')}}`), 1);
    const errors = (method: string, kind: string) =>
      sample(m, `berth_plugin_rpc_errors_total{${labels(method)},kind="${kind}"}`);
    assert.equal(await errors('VolumeDriver.Mount', 'deadline'), 1);
    assert.equal(await errors('VolumeDriver.List', 'unavailable'), 1);
    assert.equal(await errors('VolumeDriver.List', 'system'), 1);
    assert.equal(kindLabel('InvalidParameter'), 'invalid_parameter');
  });

  it("drops a removed plugin's series, and only its", async () => {
    const m = daemon();
    m.plugins.observeEvent(event('crash', VOL.Id, VOL.Name));
    m.plugins.callDone(VOL.Name, 'VolumeDriver.List', 0.01, new DeadlineError('late'));
    m.plugins.commandDone({ command: 'enable', plugin: { Name: VOL.Name } as Plugin, seconds: 1 });
    m.plugins.observeEvent(event('remove', VOL.Id, 'research/vol'));
    const text = await m.text();
    assert.doesNotMatch(text, /plugin="research\/vol:latest"/);
    assert.match(text, /berth_plugin_crashes_total\{plugin="research\/log:latest"\} 0/);
  });
});

const probe = (health: RuntimeProbe['health'], durationMs: number) =>
  ({ health, durationMs, probedAt: '2026-01-01T00:00:00Z' }) as RuntimeProbe;

describe('runtime metrics', () => {
  it('shows each runtime of the current set with its health, and every probe duration', async () => {
    const m = daemon([]);
    let set: RuntimeSet | undefined;
    m.runtimes.watch(() => {
      if (!set) throw new Error('runtimes are not loaded yet');
      return set;
    });
    assert.doesNotMatch(await m.text(), /berth_runtime_health\{/);
    const runtime = (name: string, health: RuntimeProbe['health']) =>
      [name, { name, probe: probe(health, 20) } as RuntimeStatus] as const;
    set = {
      runtimes: new Map([runtime('runc', 'ok'), runtime('gvisor', 'unavailable')]),
    } as unknown as RuntimeSet;
    m.runtimes.probed('runc', probe('ok', 20));
    m.runtimes.probed('runc', probe('ok', 3000));
    assert.equal(await sample(m, 'berth_runtime_health{runtime="runc",health="ok"}'), 1);
    assert.equal(await sample(m, 'berth_runtime_health{runtime="runc",health="degraded"}'), 0);
    assert.equal(await sample(m, 'berth_runtime_health{runtime="gvisor",health="unavailable"}'), 1);
    assert.equal(await sample(m, 'berth_runtime_probe_duration_seconds_count{runtime="runc"}'), 2);
    assert.equal(
      await sample(m, 'berth_runtime_probe_duration_seconds_bucket{le="0.025",runtime="runc"}'),
      1,
    );
    set = { runtimes: new Map([runtime('runc', 'degraded')]) } as unknown as RuntimeSet; // a reload dropped gvisor
    assert.equal(await sample(m, 'berth_runtime_health{runtime="runc",health="degraded"}'), 1);
    assert.equal(await sample(m, 'berth_runtime_health{runtime="gvisor",health="unavailable"}'), undefined);
  });
});

describe('API metrics', () => {
  it('counts requests by method, route and code, and times them by method and route', async () => {
    const m = daemon([]);
    m.api.requestDone('POST', '/plugins/:name/enable', 200, 0.8);
    m.api.requestDone('POST', '/plugins/:name/enable', 409, 0.001);
    m.api.requestDone('GET', '/plugins', 200, 0.002);
    assert.equal(
      await sample(m, 'berth_api_requests_total{method="POST",route="/plugins/:name/enable",code="200"}'),
      1,
    );
    assert.equal(
      await sample(m, 'berth_api_requests_total{method="POST",route="/plugins/:name/enable",code="409"}'),
      1,
    );
    assert.equal(
      await sample(
        m,
        'berth_api_request_duration_seconds_count{method="POST",route="/plugins/:name/enable"}',
      ),
      2,
    );
    assert.equal(
      await sample(m, 'berth_api_request_duration_seconds_bucket{le="0.0025",method="GET",route="/plugins"}'),
      1,
    );
  });

  it('adds the process metrics unless told not to', async () => {
    const m = new BerthMetrics({ version: '0.1.0' });
    assert.match(await m.text(), /^process_cpu_seconds_total /m);
    assert.match(await m.text(), /^nodejs_eventloop_lag_seconds /m);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
  });
});
