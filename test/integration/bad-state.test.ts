/**
 * Nothing lost on bad state, nothing left running on a failed start: an unreadable volume mapping is kept and
 * reported, a plugin whose start fails after runc started leaves no container, a berthd whose start fails after
 * restoring plugins stops them again, and socket names are limited in bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();

describe('bad state and failed starts', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const containers = () => {
    const root = join(d.execRoot, 'runtime-runc');
    if (!existsSync(root)) return [];
    const out = execFileSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean);
  };
  const volumesFile = () => join(d.dataRoot, 'volumes', 'volumes.json');
  const info = () =>
    JSON.parse(
      execFileSync('docker', ['-H', d.host, 'info', '--format', '{{json .Warnings}}'], { encoding: 'utf8' }),
    );

  before(() => {
    d = testDaemon('berth-bad-state');
    ctx = miniContext(d.dir);
  });
  after(() => d.cleanup());

  it('keeps a corrupt volumes.json aside, reports it in /info and the log, and never overwrites it', async () => {
    mkdirSync(join(d.dataRoot, 'volumes'), { recursive: true });
    const corrupt = '[{"Name": "precious", "Driver": "x/y", "Labels": {}, "Options": {}}, ';
    writeFileSync(volumesFile(), corrupt);
    await d.start(['--no-runtime-smoke-test']);
    const aside = readdirSync(join(d.dataRoot, 'volumes')).filter((f) =>
      f.startsWith('volumes.json.broken-'),
    );
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(d.dataRoot, 'volumes', aside[0] ?? ''), 'utf8'), corrupt);
    const warning = (info() as string[]).find((w) => w.includes('volumes.json is not valid JSON'));
    assert.ok(warning?.includes(`kept as ${join(d.dataRoot, 'volumes', aside[0] ?? '')}`), String(warning));
    await waitFor(() => d.log().includes('volumes.json is not valid JSON'), 5000, 'the log line');
    await d.stop();
  });

  it('keeps an unreadable volumes.json (a directory) aside too', async () => {
    spawnSync('rm', ['-rf', join(d.dataRoot, 'volumes')]);
    mkdirSync(volumesFile(), { recursive: true });
    await d.start(['--no-runtime-smoke-test']);
    assert.ok(
      (info() as string[]).some((w) =>
        /cannot read .*volumes.json: illegal operation on a directory; kept as/.test(w),
      ),
    );
    assert.equal(existsSync(volumesFile()), false);
    await d.stop();
  });

  it('counts socket names in bytes at create', async () => {
    await d.start(['--no-runtime-smoke-test']);
    const dir = join(d.dir, 'long-socket');
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    spawnSync('cp', [join(ctx, 'rootfs', 'mini-plugin'), join(dir, 'rootfs')]);
    const socket = `${'é'.repeat(45)}.sock`; // 50 characters, 95 bytes
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        Entrypoint: ['/mini-plugin'],
        Interface: { Types: ['docker.volumedriver/1.0'], Socket: socket },
      }),
    );
    const r = docker('plugin', 'create', 'bad/socket', dir);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /Interface.Socket ".*" is 95 bytes: at most 87 bytes fit in a unix socket path/);
  });

  it('removes the container of a plugin whose start fails after runc started', async () => {
    assert.equal(docker('plugin', 'create', 'bad/start', ctx).code, 0);
    assert.equal(docker('plugin', 'enable', 'bad/start').code, 0);
    const id = JSON.parse(docker('plugin', 'inspect', 'bad/start').out)[0].Id as string;
    await d.stop(); // SIGTERM: stopped, still enabled, so restored at the next start
    assert.deepEqual(containers(), []);
    // A socket name too long for any unix socket address (an older berth counted characters, not bytes).
    const stateFile = join(d.dataRoot, 'plugins', id, 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.plugin.Config.Interface.Socket = `${'é'.repeat(60)}.sock`;
    writeFileSync(stateFile, JSON.stringify(state));
    await d.start(['--no-runtime-smoke-test']);
    await waitFor(
      () => /restoring plugin bad\/start:latest failed: .*too long/.test(d.log()),
      10_000,
      'restore failure',
    );
    assert.deepEqual(containers(), []);
    const status = JSON.parse(docker('plugin', 'inspect', 'bad/start').out)[0].Status;
    assert.equal(status.State, 'disabled');
    assert.match(status.LastError, /too long/);
    state.plugin.Config.Interface.Socket = 'mini.sock';
    writeFileSync(stateFile, JSON.stringify(state));
    await d.stop();
  });

  it('stops restored plugins again when the rest of the start fails', async () => {
    await d.start(['--no-runtime-smoke-test']); // restores bad/start (its socket name is fixed again)
    assert.equal(containers().length, 1);
    await d.stop();
    const blocker = join(d.dir, 'not-a-directory');
    writeFileSync(blocker, '');
    // The socket's directory cannot be made: berthd fails after it restored the plugin.
    await assert.rejects(
      d.start(['-H', `unix://${blocker}/berth.sock`, '--no-runtime-smoke-test']),
      /exited at start/,
    );
    const log = d.log();
    assert.match(log, /EEXIST|ENOTDIR|not a directory/);
    assert.match(log, /plugins restored/);
    assert.deepEqual(containers(), []);
  });
});
