/**
 * Runs that use plugins, end to end with real runc: volumes of the example volume plugin mounted into
 * `berth run` (Unmount once per Mount, after exit, Ctrl-C and kill -9 of berthd), and output shipped to the
 * example log-driver plugin (framing, partials, binary bytes, a crashed driver restarted, a deaf one).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageLocalVolume } from '../../examples/local-volume/package.ts';
import { packageLogDriver } from '../../examples/log-driver/package.ts';
import { berth, busyboxRootfs, runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();

describe('berth run with volume and log-driver plugins', { skip }, () => {
  let d: TestDaemon;
  let rootfs: string;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const pluginId = (name: string) => docker('plugin', 'inspect', '-f', '{{.Id}}', name).stdout.trim();
  /** `VolumeDriver.Mount|Unmount <name> <id>` lines the example volume plugin printed, across restarts. */
  const volumeCalls = () => {
    const log = join(d.dataRoot, 'plugins', pluginId('example/vol'), 'plugin.log');
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    return [...text.matchAll(/^VolumeDriver\.(Mount|Unmount) (\S+) ([0-9a-f]{64})$/gm)].map((m) => ({
      call: m[1],
      name: m[2],
      id: m[3],
    }));
  };
  const assertBalanced = () => {
    const calls = volumeCalls();
    const mounts = calls.filter((c) => c.call === 'Mount').map((c) => c.id);
    const unmounts = calls.filter((c) => c.call === 'Unmount').map((c) => c.id);
    assert.deepEqual([...unmounts].sort(), [...mounts].sort(), 'one Unmount per Mount, same ids');
    assert.equal(new Set(mounts).size, mounts.length, 'a fresh mount id per mount');
    assert.deepEqual(JSON.parse(readFileSync(join(d.dataRoot, 'volumes', 'mounts.json'), 'utf8')), []);
  };
  const logEntries = (plugin: string, run: string) => {
    const file = join(d.dataRoot, 'plugins', pluginId(plugin), 'propagated-mount', 'logs', `${run}.log`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const run = (args: string[]) => runBerth(d.host, ['run', '--rootfs', rootfs, ...args]);

  before(async () => {
    d = testDaemon('berth-runplg');
    rootfs = busyboxRootfs(d.dir);
    const vol = await packageLocalVolume(join(d.dir, 'vol'));
    const logs = await packageLogDriver(join(d.dir, 'logs'));
    await d.start(['--no-runtime-smoke-test']);
    for (const [name, ctx] of [
      ['example/vol', vol],
      ['example/log', logs],
      ['example/deaf', logs],
    ] as const)
      assert.equal(docker('plugin', 'create', name, ctx).code, 0);
    assert.equal(docker('plugin', 'set', 'example/deaf', 'NEVER_READ=1').code, 0);
    for (const name of ['example/vol', 'example/log', 'example/deaf'])
      assert.equal(docker('plugin', 'enable', name).code, 0, name);
  });
  after(() => d.cleanup());

  it('mounts a volume into a run; a second run reads what the first wrote; host dirs bind too', async () => {
    const hostDir = join(d.dir, 'host dir');
    const w = await run([
      '-v',
      'data:/data',
      '-v',
      `${hostDir}:/h`,
      '--volume-driver',
      'example/vol',
      '--',
      'sh',
      '-c',
      'echo hello > /data/f && echo there > /h/g',
    ]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(join(hostDir, 'g'), 'utf8'), 'there\n');
    const r = await run(['-v', 'data:/data:ro', '--', 'sh', '-c', 'cat /data/f; echo x > /data/nope']);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.notEqual(r.code, 0);
    const missing = await run(['-v', 'nosuch:/d', '--', 'true']);
    assert.match(missing.stderr, /no such volume: nosuch; create it .* or give --volume-driver PLUGIN/);
    assert.equal(docker('volume', 'create', '-d', 'example/vol', 'gone').code, 0);
    const volumes = join(d.dataRoot, 'plugins', pluginId('example/vol'), 'propagated-mount', 'volumes');
    rmSync(join(volumes, 'gone'), { recursive: true });
    const failing = await run(['-v', 'gone:/d', '--', 'true']);
    assert.match(
      failing.stderr,
      /error while mounting volume 'gone': VolumeDriver\.Mount: no such volume: gone/,
    );
    assert.notEqual(failing.code, 0);
    assert.equal(docker('volume', 'rm', '-f', 'gone').code, 0);
    const bad = await run(['-v', 'data:/d:zz', '--', 'true']);
    assert.match(bad.stderr, /invalid volume specification "data:\/d:zz": unsupported mode "zz"/);
    assertBalanced();
  });

  it('refuses to remove a volume or disable its driver while a run uses it; Ctrl-C unmounts', async () => {
    const client = berth(d.host, ['run', '--rootfs', rootfs, '-v', 'data:/data', '--', 'sleep', '30']);
    await waitFor(() => volumeCalls().length % 2 === 1, 10_000, 'the Mount');
    assert.match(
      docker('volume', 'rm', 'data').stderr,
      /remove data: volume is in use - \[berth-run-[0-9a-f]{16}\]/,
    );
    assert.match(docker('plugin', 'disable', 'example/vol').stderr, /plugin example\/vol:latest is in use/);
    client.child.kill('SIGINT');
    assert.equal((await client.done).code, 130);
    await waitFor(() => volumeCalls().length % 2 === 0, 10_000, 'the Unmount');
    assertBalanced();
  });

  it('unmounts when berthd is stopped (SIGTERM) during a run, before it stops the plugin', async () => {
    const client = berth(d.host, ['run', '--rootfs', rootfs, '-v', 'data:/data', '--', 'sleep', '30']);
    await waitFor(() => volumeCalls().length % 2 === 1, 10_000, 'the Mount');
    assert.equal(await d.stop('SIGTERM'), 0);
    await client.done;
    assertBalanced();
    await d.start(['--no-runtime-smoke-test']);
  });

  it('unmounts at the next start what a berthd killed during a run had mounted', async () => {
    const client = berth(d.host, ['run', '--rootfs', rootfs, '-v', 'data:/data', '--', 'sleep', '30']);
    await waitFor(() => volumeCalls().length % 2 === 1, 10_000, 'the Mount');
    d.process.kill('SIGKILL');
    await client.done;
    await d.start(['--no-runtime-smoke-test']);
    assert.match(d.log(), /unmounted volumes of runs left by a previous berthd/);
    assertBalanced();
    assert.equal(docker('volume', 'rm', 'data').code, 0);
  });

  it('ships output framed and decoded: empty, 16 KiB and 1 MiB lines (partials), binary bytes, stderr', async () => {
    const cid = join(d.dir, 'cid-1');
    const script =
      'printf "\\n"; printf "%16384s\\n" ""; printf "%1048576s\\n" ""; printf "a\\0b\\377\\n"; echo err >&2';
    const r = await run([
      '--log-driver',
      'example/log',
      '--log-opt',
      'tag=t1',
      '-l',
      'team=ops',
      '--cidfile',
      cid,
      '--',
      'sh',
      '-c',
      script,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 1 + 16385 + 1048577 + 5, 'the client still gets the output');
    const id = readFileSync(cid, 'utf8');
    const all = logEntries('example/log', id);
    const start = all.find((e) => e.event === 'start') as { info: Record<string, unknown> };
    assert.equal(start.info.ContainerID, id);
    assert.equal(start.info.ContainerName, `/${id}`);
    assert.deepEqual(start.info.Config, { tag: 't1' });
    assert.deepEqual(start.info.ContainerLabels, { team: 'ops' });
    const entries = all.filter((e) => !('event' in e));
    const out = entries.filter((e) => e.source === 'stdout');
    const line = (e: Record<string, unknown>) => Buffer.from(String(e.line), 'base64');
    const meta = (e: Record<string, unknown>) =>
      e.partial_log_metadata as { ordinal: number; last: boolean; id: string } | null;
    assert.equal(out.length, 1 + 2 + 65 + 1);
    assert.equal(line(out[0] as Record<string, unknown>).length, 0);
    assert.equal(out[0]?.partial, false);
    assert.deepEqual(
      out.slice(1, 3).map((e) => [line(e).length, meta(e)?.ordinal, meta(e)?.last, e.partial]),
      [
        [16384, 1, false, true],
        [0, 2, true, true],
      ],
    );
    const big = out.slice(3, 68);
    assert.ok(
      big
        .slice(0, 64)
        .every((e, i) => line(e).length === 16384 && meta(e)?.ordinal === i + 1 && !meta(e)?.last),
    );
    assert.equal(new Set(big.map((e) => meta(e)?.id)).size, 1);
    assert.equal(new Set(big.map((e) => e.time_nano)).size, 1, 'pieces share the first timestamp');
    assert.deepEqual(
      [line(big[64] as Record<string, unknown>).length, meta(big[64] as Record<string, unknown>)?.last],
      [0, true],
    );
    assert.deepEqual([...line(out[68] as Record<string, unknown>)], [0x61, 0, 0x62, 0xff]);
    assert.match(String(out[68]?.time_nano), /^\d{19}$/);
    assert.deepEqual(
      entries.filter((e) => e.source === 'stderr').map((e) => line(e).toString()),
      ['err'],
    );
    const back = await runBerth(d.host, ['logs', id]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, r.stdout, 'berth logs reads the same bytes back through ReadLogs');
    const last = await runBerth(d.host, ['logs', '-n', '1', id]);
    assert.equal(
      `${last.stdout}${last.stderr}`.split('\n').length,
      2,
      'tail -n 1: one line (stdout or stderr)',
    );
  });

  it('re-attaches a log driver that crashed mid-run: it receives the rest', async (t) => {
    const cid = join(d.dir, 'cid-2');
    const client = berth(d.host, [
      'run',
      '--rootfs',
      rootfs,
      '--log-driver',
      'example/log',
      '--cidfile',
      cid,
      '--',
      'sh',
      '-c',
      'i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); sleep 0.05; done',
    ]);
    // The CLI creates the file before it writes the id: wait for the id, not for the file.
    await waitFor(() => existsSync(cid) && readFileSync(cid, 'utf8') !== '', 10_000, 'the run');
    const id = readFileSync(cid, 'utf8');
    const lines = () => logEntries('example/log', id).filter((e) => !('event' in e)).length;
    await waitFor(() => lines() >= 5, 10_000, 'the first lines');
    execFileSync('runc', [
      '--root',
      join(d.execRoot, 'runtime-runc'),
      'kill',
      pluginId('example/log'),
      'KILL',
    ]);
    const r = await client.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 41);
    const all = logEntries('example/log', id);
    assert.equal(all.filter((e) => e.event === 'start').length, 2, 'StartLogging again after the restart');
    const got = all
      .filter((e) => !('event' in e))
      .map((e) => Buffer.from(String(e.line), 'base64').toString());
    assert.equal(got.at(-1), 'line39');
    t.diagnostic(`the driver received ${got.length} of 40 lines across its crash`);
    const firstAfter = got.findIndex(
      (l, i) => i > 0 && Number(l.slice(4)) !== Number(got[i - 1]?.slice(4)) + 1,
    );
    const tail = firstAfter < 0 ? got : got.slice(firstAfter);
    assert.deepEqual(
      tail,
      tail.map((_, i) => `line${Number(tail[0]?.slice(4)) + i}`),
      'no gap after the restart',
    );
    assert.match(d.log(), /log driver example\/log re-attached/);
  });

  it('does not block a run on a driver that never reads (non-blocking), and counts the dropped lines', async () => {
    const started = Date.now();
    const r = await run([
      '--log-driver',
      'example/deaf',
      '--log-opt',
      'mode=non-blocking',
      '--log-opt',
      'max-buffer-size=64k',
      '--',
      'sh',
      '-c',
      'i=0; while [ $i -lt 2000 ]; do printf "%1000s\\n" ""; i=$((i+1)); done; echo done',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith('done\n'));
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.match(d.log(), /log driver example\/deaf: \d+ line\(s\) of berth-run-[0-9a-f]{16} dropped/);
    // Blocking mode holds the workload back, as dockerd does; Ctrl-C still ends it.
    const held = berth(d.host, [
      'run',
      '--rootfs',
      rootfs,
      '--log-driver',
      'example/deaf',
      '--',
      'sh',
      '-c',
      'while true; do printf "%1000s\\n" ""; done',
    ]);
    let got = 0;
    held.child.stdout?.on('data', (b: Buffer) => {
      got += b.length;
    });
    await waitFor(() => got > 0, 10_000, 'output');
    await new Promise((r) => setTimeout(r, 500));
    const plateau = got;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got, plateau, 'the blocked workload writes nothing more');
    held.child.kill('SIGINT');
    assert.equal((await held.done).code, 130);
    const blocking = await run([
      '--log-driver',
      'example/deaf',
      '--log-opt',
      'max-buffer-size=1m',
      '--',
      'true',
    ]);
    assert.match(blocking.stderr, /max-buffer-size option is only supported with 'mode=non-blocking'/);
  });
});
