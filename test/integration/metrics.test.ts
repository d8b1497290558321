/**
 * `berthd --metrics-addr`: a real berthd serving Prometheus text on its own TCP listener, scraped while the
 * docker CLI creates, enables and disables a real plugin (the static mini plugin, under runc) and while the
 * plugin's process is killed: the values move with the events that cause them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { type TestDaemon, testDaemon } from './berthd.ts';
import { runcList } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const PLUGIN = 'metrics/mini:latest';

describe('berthd --metrics-addr', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  let url: string;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const scrape = async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  /** One sample's value (the series as printed, labels in order), undefined when it is absent. */
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  const at = async (series: string) => value(await scrape(), series);

  before(async () => {
    d = testDaemon('berth-metrics');
    ctx = miniContext(d.dir);
    await d.start(['--no-runtime-smoke-test', '--metrics-addr', '127.0.0.1:0']);
    const line = d
      .log()
      .split('\n')
      .find((l) => l.includes('"metrics listening"'));
    url = (JSON.parse(line ?? '{}') as { url?: string }).url ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });
  after(() => d?.cleanup());

  it('serves process, runtime and plugin metrics on its own listener, and nothing else there', async () => {
    const text = await scrape();
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
    assert.match(text, /^berth_build_info\{version="[^"]+"\} 1$/m);
    assert.equal(value(text, 'berth_runtime_health{runtime="runc",health="ok"}'), 1);
    assert.ok((value(text, 'berth_runtime_probe_duration_seconds_count{runtime="runc"}') ?? 0) >= 1);
    assert.equal(value(text, 'berth_plugins{state="enabled"}'), 0);
    assert.equal((await fetch(url.replace('/metrics', '/_ping'))).status, 404); // not the Engine API
  });

  it('moves with enable, an API request, an RPC, a crash and disable', async () => {
    docker('plugin', 'create', PLUGIN, ctx);
    assert.equal(await at('berth_plugins{state="disabled"}'), 1);
    assert.equal(await at(`berth_plugin_crashes_total{plugin="${PLUGIN}"}`), 0);

    docker('plugin', 'enable', 'metrics/mini');
    let text = await scrape();
    assert.equal(value(text, 'berth_plugins{state="enabled"}'), 1);
    assert.equal(value(text, 'berth_plugins_run_state{state="running"}'), 1);
    const enabled = `{plugin="${PLUGIN}",outcome="success"}`;
    assert.equal(value(text, `berth_plugin_enable_duration_seconds_count${enabled}`), 1);
    // The docker CLI sends /v1.NN/plugins/metrics/mini/enable: the route pattern, not the URL, is the label.
    const enableRoute = 'method="POST",route="/plugins/:name/enable"';
    assert.equal(value(text, `berth_api_requests_total{${enableRoute},code="200"}`), 1);
    assert.equal(value(text, `berth_api_request_duration_seconds_count{${enableRoute}}`), 1);
    assert.doesNotMatch(text, /route="[^"]*metrics\/mini/);

    docker('volume', 'ls'); // asks every volume driver: VolumeDriver.List through the plugin's client
    text = await scrape();
    const list = `berth_plugin_rpc_duration_seconds_count{plugin="${PLUGIN}",method="VolumeDriver.List"}`;
    assert.equal(value(text, list), 1);
    assert.equal(value(text, 'berth_api_requests_total{method="GET",route="/volumes",code="200"}'), 1);

    killPluginProcess(d);
    const restarts = `berth_plugin_restarts_total{plugin="${PLUGIN}"}`;
    const deadline = Date.now() + 10_000;
    for (text = await scrape(); value(text, restarts) !== 1; text = await scrape()) {
      assert.ok(Date.now() < deadline, `no restart counted:\n${d.log().slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(value(text, `berth_plugin_crashes_total{plugin="${PLUGIN}"}`), 1);

    docker('plugin', 'disable', 'metrics/mini');
    text = await scrape();
    assert.equal(value(text, 'berth_plugins{state="enabled"}'), 0);
    assert.equal(value(text, `berth_plugin_disable_duration_seconds_count${enabled}`), 1);

    docker('plugin', 'rm', 'metrics/mini');
    assert.doesNotMatch(await scrape(), /plugin="metrics\/mini:latest"/);
  });
});

/** SIGKILL to the plugin's own process (the container's init, not runc), as the kernel or an operator would. */
function killPluginProcess(d: TestDaemon): void {
  const root = join(d.execRoot, 'runtime-runc');
  const [container] = runcList(root);
  assert.ok(container && container.pid > 0, `no running plugin container: ${JSON.stringify(container)}`);
  process.kill(container.pid, 'SIGKILL');
}
