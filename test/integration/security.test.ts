/**
 * Security properties end to end through berthd: who may reach the socket, what berth writes with which
 * permissions, that no runtime name is ever read as a path to a binary, that runtime args cannot inject shell
 * code through the wrapper scripts, and that a plugin's privileges are reported before it can be installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { packageAuthzDeny } from '../../examples/local-volume/package.ts';
import { busyboxRootfs, runBerth, type TestDaemon, testDaemon } from './berthd.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const NOBODY = 65534;

describe('berthd security', { skip }, () => {
  let d: TestDaemon;
  let rootfs: string;
  let argvFile: string;
  const cli = (...args: string[]) => runBerth(d.host, args);
  const EVIL_ARGS = [
    '; touch /tmp/berth-pwned-1',
    '$(touch /tmp/berth-pwned-2)',
    '`touch /tmp/berth-pwned-3`',
    "'",
    '\nid',
    '*',
  ];

  before(async () => {
    d = testDaemon('berth-sec');
    rootfs = busyboxRootfs(d.dir);
    // A "runtime" that records the argv it was given, then runs runc with the real arguments only.
    argvFile = join(d.dir, 'argv');
    const recorder = join(d.dir, 'recording-runtime');
    writeFileSync(
      recorder,
      `#!/bin/sh\nprintf '%s\\0' "$@" > '${argvFile}'\nwhile [ "$1" != "--" ]; do shift; done; shift\nexec runc "$@"\n`,
    );
    chmodSync(recorder, 0o755);
    d.writeConfig({ runtimes: { recorder: { path: recorder, runtimeArgs: [...EVIL_ARGS, '--'] } } });
    chmodSync(d.dir, 0o711); // so that only the socket's own mode decides who gets in
    await d.start(['--no-runtime-smoke-test', '--group', 'daemon']);
  });
  after(() => d.cleanup());

  it('serves its socket as root:<group> 0660 and refuses other users', () => {
    const st = statSync(d.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.deepEqual([st.uid, st.gid], [0, 1]);
    const probe = `require('node:net').connect(${JSON.stringify(d.socket)}).on('connect',()=>process.exit(0)).on('error',e=>{console.error(e.code);process.exit(3)})`;
    const asNobody = spawnSync(process.execPath, ['-e', probe], {
      uid: NOBODY,
      gid: NOBODY,
      encoding: 'utf8',
    });
    assert.equal(asNobody.status, 3);
    assert.match(asNobody.stderr, /EACCES/);
    const asGroup = spawnSync(process.execPath, ['-e', probe], { uid: NOBODY, gid: 1, encoding: 'utf8' });
    assert.equal(asGroup.status, 0, asGroup.stderr);
  });

  it('keeps its state private: data dirs 0700, state and wrapper scripts readable by root only', async () => {
    const ctx = miniContext(d.dir);
    assert.equal((await cli('plugin', 'create', 'private', ctx)).code, 0);
    const plugins = join(d.dataRoot, 'plugins');
    assert.equal(statSync(plugins).mode & 0o777, 0o700);
    const [id] = readdirSync(plugins).filter((e) => /^[0-9a-f]{64}$/.test(e));
    assert.ok(id);
    assert.equal(statSync(join(plugins, id, 'state.json')).mode & 0o777, 0o600);
    for (const w of readdirSync(join(d.dataRoot, 'runtimes'))) {
      assert.equal(statSync(join(d.dataRoot, 'runtimes', w)).mode & 0o077, 0, w);
    }
    assert.equal((await cli('plugin', 'rm', 'private')).code, 0);
  });

  it('never reads a runtime name as a path: API, plugin create and the configuration all refuse', async () => {
    for (const name of ['/usr/sbin/runc', './runc', '../runc', 'runc/../../bin/sh']) {
      const run = await cli('run', '--runtime', name, '--rootfs', rootfs, 'true');
      assert.notEqual(run.code, 0, name);
      assert.match(run.stderr, /unknown or invalid runtime name/, name);
      const create = await cli('plugin', 'create', '--runtime', name, 'x', miniContext(join(d.dir, 'ctx2')));
      assert.match(create.stderr, /unknown or invalid runtime name/, name);
    }
    const bad = testDaemon('berth-sec-cfg');
    try {
      bad.writeConfig({ runtimes: { '/bin/sh': { path: 'runc' } }, 'default-runtime': '/usr/sbin/runc' });
      await assert.rejects(bad.start(['--no-runtime-smoke-test']), (err: Error) => {
        assert.match(err.message, /invalid runtime name "\/bin\/sh": it contains "\/"/);
        assert.match(err.message, /specified default runtime '\/usr\/sbin\/runc' does not exist/);
        return true;
      });
    } finally {
      await bad.cleanup();
    }
  });

  it('passes runtime args to the runtime literally: no shell code from the configuration runs', async () => {
    const r = await cli('run', '--runtime', 'recorder', '--rootfs', rootfs, 'echo', 'ran');
    assert.deepEqual([r.code, r.stdout], [0, 'ran\n'], r.stderr);
    const argv = readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
    assert.deepEqual(argv.slice(0, EVIL_ARGS.length), EVIL_ARGS);
    for (const n of [1, 2, 3]) assert.equal(existsSync(`/tmp/berth-pwned-${n}`), false);
  });
});

/**
 * The socket grants root (POST /runs runs any command as root; a settable mount can be set to /), so the
 * authorization chain is the way to restrict it: with a deny-all plugin, nothing gets through, the most powerful
 * endpoints included, and nothing they would have done happens.
 */
describe('a deny-all authorization plugin restricts every endpoint', { skip }, () => {
  let d: TestDaemon;
  let rootfs: string;
  let agent: Agent;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(`http://berth${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.statusCode, text: await res.body.text() };
  };

  before(async () => {
    d = testDaemon('berth-deny-all');
    rootfs = busyboxRootfs(d.dir);
    d.writeConfig({ 'authorization-plugins': ['deny/all'] });
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
    const ctx = await packageAuthzDeny(join(d.dir, 'authz ctx'));
    for (const args of [
      ['plugin', 'create', 'deny/all', ctx],
      ['plugin', 'set', 'deny/all', 'DENY_PATTERN=.'],
      ['plugin', 'enable', 'deny/all'],
    ]) {
      const r = await runBerth(d.host, args);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await agent?.close();
    await d?.cleanup();
  });

  it('denies /runs, /plugins/*/set, /runtimes/reload and the rest with 403, and none of them acts', async () => {
    const marker = join(d.dir, 'ran');
    const denied = [
      await call('POST', '/v1.41/runs', { rootfs, args: ['/bin/sh', '-c', `echo > '${marker}'`] }),
      await call('POST', '/runs', { rootfs, args: ['true'] }),
      await call('POST', '/v1.41/plugins/deny/all:latest/set', ['DENY_PATTERN=^$']),
      await call('POST', '/runtimes/reload'),
      await call('POST', '/v1.41/plugins/deny/all/disable'),
      await call('DELETE', '/v1.41/plugins/deny/all?force=1'),
      await call('GET', '/v1.41/plugins'),
      await call('GET', '/_ping'),
      await call('POST', '/volumes/create', { Name: 'v', Driver: 'deny/all' }),
    ];
    for (const r of denied) {
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /authorization denied by plugin deny\/all: .* is denied by policy \./);
    }
    assert.equal(existsSync(marker), false);
    const [id] = readdirSync(join(d.dataRoot, 'plugins')).filter((e) => /^[0-9a-f]{64}$/.test(e));
    const state = JSON.parse(readFileSync(join(d.dataRoot, 'plugins', String(id), 'state.json'), 'utf8'));
    assert.deepEqual(state.plugin.Settings.Env, ['DENY_PATTERN=.']);
    assert.equal(state.plugin.Enabled, true);
    assert.equal(d.log().split('runtimes loaded').length - 1, 1); // only the start's load: no reload ran
  });
});
