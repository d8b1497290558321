/**
 * The plugin manager with real runc containers: a Node.js test plugin (test/fixtures/plugins/behave.ts) and the
 * example local-volume plugin, packaged with node and its libraries in their rootfs.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageLocalVolume, packageNodePlugin } from '../../examples/local-volume/package.ts';
import { RuncExecutor } from '../../src/executor/index.ts';
import { boundingCapabilities } from '../../src/host/index.ts';
import { type PluginEvent, PluginManager, type PluginManagerOptions } from '../../src/plugins/index.ts';
import { RuntimeManager } from '../../src/runtimes/index.ts';
import { BEHAVE_MANIFEST, BEHAVE_FIXTURE as FIXTURE, post, runcIds, until } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
describe('plugin manager with runc', { skip }, () => {
  let dir: string;
  let behave: string;
  let example: string;
  let runtimes: RuntimeManager;
  const managers: PluginManager[] = [];
  const events: PluginEvent[] = [];

  function manager(o: Partial<PluginManagerOptions> = {}, root = dir): PluginManager {
    const m = new PluginManager({
      dataRoot: join(root, 'data'),
      execRoot: join(root, 'exec'),
      runtimes,
      executor: new RuncExecutor(),
      preflight: { boundingCapabilities: boundingCapabilities(), exists: existsSync },
      readyTimeoutMs: 5000,
      stopGraceMs: 2000,
      ...o,
    });
    m.on('event', (e) => events.push(e));
    managers.push(m);
    return m;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-plugins-'));
    behave = await packageNodePlugin({
      source: FIXTURE,
      manifest: BEHAVE_MANIFEST,
      outDir: join(dir, 'ctx-behave'),
    });
    example = await packageLocalVolume(join(dir, 'ctx-example'));
    mkdirSync(join(dir, 'state'));
    runtimes = new RuntimeManager({
      host: {
        execRoot: join(dir, 'exec'),
        wrapperDir: join(dir, 'data', 'runtimes'),
        noPivotRoot: false,
        pathEnv: process.env.PATH ?? '',
      },
      probe: { commandTimeoutMs: 2000 },
    });
    await runtimes.reload({});
  });

  after(async () => {
    for (const m of managers) await m.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the example volume driver: create, enable, volume on the host through the propagated mount, disable, remove', async () => {
    const m = manager();
    await m.init();
    const p = await m.create('example/local-volume', { dir: example });
    assert.equal(p.Name, 'example/local-volume:latest');
    assert.deepEqual(Object.keys(m.inspect('example/local-volume')), [
      'Config',
      'Enabled',
      'Id',
      'Name',
      'PluginReference',
      'Settings',
      'Status',
    ]);
    assert.equal(
      readFileSync(join(dir, 'data/plugins', p.Id, 'state.json'), 'utf8').includes('"Enabled":false'),
      true,
    );
    await m.enable('example/local-volume');
    const view = m.inspect(p.Id.slice(0, 12));
    assert.equal(view.Enabled, true);
    assert.equal(view.Status.State, 'running');
    assert.deepEqual(view.Status.Warnings, []);
    const sock = join(m.socketDir(p.Id), 'local-volume.sock');
    assert.deepEqual(JSON.parse((await post(sock, '/VolumeDriver.Create', '{"Name":"v1"}')).body), {});
    assert.ok(existsSync(join(dir, 'data/plugins', p.Id, 'propagated-mount/volumes/v1')));
    const bad = await post(sock, '/VolumeDriver.Path', '{"Name":"nope"}');
    assert.deepEqual([bad.status, JSON.parse(bad.body)], [500, { Err: 'no such volume: nope' }]);
    // The same through berth's plugin client, as volumes will call it.
    const driver = m.client('example/local-volume', 'volumedriver');
    assert.deepEqual(await driver.call('VolumeDriver.Capabilities', {}), {
      Capabilities: { Scope: 'local' },
    });
    await assert.rejects(
      driver.call('VolumeDriver.Path', { Name: 'nope' }),
      /^SystemError: VolumeDriver.Path: no such volume: nope$/,
    );
    assert.throws(() => m.client('example/local-volume', 'authz'), /does not provide "authz" capability/);
    // The plugin prints this line once listening: it comes through runc's pipe, possibly after the calls above.
    const listening = /local-volume: listening on \/run\/docker\/plugins\/local-volume.sock/;
    for (
      let t = Date.now();
      !listening.test(readFileSync(m.logPath(p.Id), 'utf8')) && Date.now() - t < 5000;
    )
      await new Promise((r) => setTimeout(r, 10));
    assert.match(readFileSync(m.logPath(p.Id), 'utf8'), listening);
    await m.disable('example/local-volume');
    assert.equal(m.inspect(p.Id).Status.State, 'disabled');
    assert.throws(
      () => m.client('example/local-volume', 'volumedriver'),
      /plugin example\/local-volume:latest found but disabled/,
    );
    assert.deepEqual(runcIds(join(dir, 'exec/runtime-runc')), []);
    await m.remove('example/local-volume');
    assert.equal(existsSync(join(dir, 'data/plugins', p.Id)), false);
    assert.deepEqual(
      events.filter((e) => e.Actor.ID === p.Id).map((e) => e.Action),
      ['create', 'enable', 'disable', 'remove'],
    );
  });

  it('refuses bad names, duplicates and bad manifests, leaving nothing behind', async () => {
    const m = manager();
    await m.init();
    await assert.rejects(m.create('research/Bad', { dir: behave }), /must be lowercase/);
    await m.create('t/dup', { dir: behave });
    await m.create('t/dup-twin', { dir: behave }); // identical rootfs is fine (dockerd: "content … already exists")
    await assert.rejects(
      m.create('t/dup:latest', { dir: behave }),
      /^ConflictError: plugin t\/dup:latest already exists$/,
    );
    const badCtx = join(dir, 'ctx-bad');
    mkdirSync(join(badCtx, 'rootfs'), { recursive: true });
    writeFileSync(join(badCtx, 'rootfs', 'x'), '');
    writeFileSync(
      join(badCtx, 'config.json'),
      JSON.stringify({ Interface: { Types: ['bogus'], Socket: '' }, Entrypoint: [] }),
    );
    await assert.rejects(m.create('t/bad', { dir: badCtx }), (err: Error) => {
      assert.equal(err.name, 'InvalidParameterError');
      assert.match(err.message, /Interface.Types\[0\] "bogus" must look like/);
      assert.match(err.message, /Interface.Socket must name the socket file/);
      assert.match(err.message, /Entrypoint must name the program to run/);
      return true;
    });
    rmSync(join(badCtx, 'config.json'));
    await assert.rejects(m.create('t/bad', { dir: badCtx }), /config not found/);
    assert.deepEqual(readdirSync(join(dir, 'data/plugins', 'tmp')), []);
    assert.equal(m.list().filter((p) => p.Name === 't/bad:latest').length, 0);
    await m.remove('t/dup');
    await m.remove('t/dup-twin');
  });

  it('creates from a gzip tar, keeps absolute symlinks verbatim, refuses traversal and device entries', async () => {
    const m = manager();
    await m.init();
    const tarDir = join(dir, 'tars');
    mkdirSync(tarDir, { recursive: true });
    spawnSync('ln', ['-s', '/usr/bin/node', join(behave, 'rootfs/bin-node')]);
    execFileSync('sh', ['-c', `tar -cf - -C '${behave}' . | gzip -1 > '${join(tarDir, 'good.tgz')}'`]);
    const { createReadStream } = await import('node:fs');
    const p = await m.create('t/from-tar', { tar: createReadStream(join(tarDir, 'good.tgz')) });
    assert.equal(
      execFileSync('readlink', [join(dir, 'data/plugins', p.Id, 'rootfs/bin-node')], {
        encoding: 'utf8',
      }).trim(),
      '/usr/bin/node',
    );
    // Crafted archives: python's tarfile writes what GNU tar would refuse to.
    const craft = (name: string, code: string) => {
      execFileSync('python3', [
        '-c',
        `import tarfile,io\nt=tarfile.open(${JSON.stringify(join(tarDir, name))},'w')\ndef add(n,data=b'',**kw):\n  i=tarfile.TarInfo(n)\n  for k,v in kw.items(): setattr(i,k,v)\n  i.size=len(data); t.addfile(i,io.BytesIO(data))\nadd('config.json', open(${JSON.stringify(join(behave, 'config.json'))},'rb').read())\nadd('rootfs/ok', b'x')\n${code}\nt.close()`,
      ]);
      return createReadStream(join(tarDir, name));
    };
    await assert.rejects(
      m.create('t/evil1', { tar: craft('dotdot.tar', "add('rootfs/../../escape', b'x')") }),
      /refusing plugin context: .*\.\./,
    );
    await assert.rejects(
      m.create('t/evil2', {
        tar: craft('dev.tar', "add('rootfs/dev/sda', type=tarfile.CHRTYPE, devmajor=8, devminor=0)"),
      }),
      /rootfs\/dev\/sda \(CharacterDevice: device, FIFO and special entries are not allowed\)/,
    );
    await assert.rejects(
      m.create('t/evil3', {
        tar: craft(
          'link.tar',
          "add('rootfs/lnk', type=tarfile.SYMTYPE, linkname='/etc')\nadd('rootfs/lnk/passwd', b'owned')",
        ),
      }),
      /refusing|Cannot extract through symbolic link|same path/,
    );
    assert.equal(existsSync('/etc/passwd') && readFileSync('/etc/passwd', 'utf8').includes('owned'), false);
    await assert
      .rejects(
        m.create('t/evil4', { tar: craft('norootfs.tar', '') }).then(() => undefined),
        undefined,
      )
      .catch(() => undefined);
    assert.deepEqual(readdirSync(join(dir, 'data/plugins', 'tmp')), []);
    await m.remove('t/from-tar');
  });

  it('sets atomically and persists; refuses set while enabled; catches problems before runc', async () => {
    const m = manager();
    await m.init();
    const p = await m.create('t/settings', { dir: behave });
    await assert.rejects(m.set('t/settings', ['MODE=listen', 'NOPE=1']), /setting "NOPE" not found/);
    assert.deepEqual(m.inspect('t/settings').Settings.Env, []);
    await assert.rejects(
      m.enable('t/settings'),
      /mount source is not specified for mount "state" at "\/state": set it with "berth plugin set t\/settings:latest state.source=\/host\/path"/,
    );
    await m.set('t/settings', ['MODE=listen', `state=${join(dir, 'state')}`, 'args=["--a b", "--c"]']);
    const reloaded = manager();
    await reloaded.init();
    assert.deepEqual(reloaded.inspect('t/settings').Settings.Env, ['MODE=listen']);
    assert.equal(reloaded.inspect('t/settings').Settings.Mounts[0]?.Source, join(dir, 'state'));
    await m.set('t/settings', [`state=${join(dir, 'missing-dir')}`]);
    await assert.rejects(
      m.enable('t/settings'),
      /mount \/state: source .*missing-dir does not exist on the host/,
    );
    await m.set('t/settings', [`state=${join(dir, 'state')}`]);
    await m.enable('t/settings');
    await assert.rejects(
      m.set('t/settings', ['MODE=crash']),
      /^ConflictError: cannot set on an active plugin/,
    );
    await assert.rejects(
      m.enable('t/settings'),
      /plugin already enabled: plugin t\/settings:latest is enabled/,
    );
    assert.match(readFileSync(m.logPath(p.Id), 'utf8'), /behave: mode=listen args=\["--a b","--c"\]/);
    await m.disable('t/settings');
    await assert.rejects(
      m.disable('t/settings'),
      /plugin is already disabled: plugin t\/settings:latest found but disabled/,
    );
    await m.remove(p.Id);
  });

  it('reports an exit before listening with its code and output, and a plugin that never listens, removing the container', async () => {
    const m = manager({ readyTimeoutMs: 600 });
    await m.init();
    await m.create('t/crash', { dir: behave });
    await m.set('t/crash', ['MODE=crash', 'EXIT_CODE=7', `state=${join(dir, 'state')}`]);
    await assert.rejects(m.enable('t/crash'), (err: Error) => {
      assert.match(
        err.message,
        /plugin t\/crash:latest exited with code 7 before listening on behave.sock; last output:\nbehave: crashing on purpose/,
      );
      return true;
    });
    assert.equal(m.inspect('t/crash').Enabled, false);
    await m.set('t/crash', ['MODE=silent']);
    const started = performance.now();
    await assert.rejects(
      m.enable('t/crash'),
      /did not listen on behave.sock within 600 ms; its container was removed/,
    );
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(runcIds(join(dir, 'exec/runtime-runc')), []);
    await m.remove('t/crash');
  });

  it('restarts a killed plugin, and marks a crash loop failed after N failures', async () => {
    const m = manager({ maxFailures: 3, backoffBaseMs: 20, failureWindowMs: 30_000 });
    await m.init();
    const p = await m.create('t/loop', { dir: behave });
    await m.set('t/loop', ['MODE=listen', `state=${join(dir, 'state')}`]);
    await m.enable('t/loop');
    const pid = JSON.parse(
      execFileSync('runc', ['--root', join(dir, 'exec/runtime-runc'), 'state', p.Id], { encoding: 'utf8' }),
    ).pid as number;
    process.kill(pid, 'SIGKILL');
    await until(
      () => m.inspect('t/loop').Status.Restarts === 1 && m.inspect('t/loop').Status.State === 'running',
      10_000,
      'a restart',
    );
    assert.equal((await post(join(m.socketDir(p.Id), 'behave.sock'), '/Plugin.Activate')).status, 200);
    await m.disable('t/loop');
    await m.set('t/loop', ['MODE=crash-after', 'CRASH_AFTER_MS=50']);
    await m.enable('t/loop');
    await until(() => m.inspect('t/loop').Status.State === 'failed', 20_000, 'the failed state');
    const status = m.inspect('t/loop').Status;
    assert.match(status.LastError, /exited unexpectedly with code 3; 3 failures within 30 s: not restarting/);
    assert.ok(events.some((e) => e.Actor.ID === p.Id && e.Action === 'failed'));
    assert.ok(events.filter((e) => e.Actor.ID === p.Id && e.Action === 'crash').length >= 3);
    await m.disable('t/loop');
    await m.remove('t/loop');
  });

  it('warns when Plugin.Activate does not implement the declared types; filters ls by capability and enabled', async () => {
    const m = manager();
    await m.init();
    await m.create('t/warn', { dir: behave });
    await m.set('t/warn', ['MODE=listen', 'IMPLEMENTS=NetworkDriver', `state=${join(dir, 'state')}`]);
    await m.enable('t/warn');
    assert.match(
      m.inspect('t/warn').Status.Warnings[0] ?? '',
      /missing VolumeDriver declared in Interface.Types/,
    );
    assert.deepEqual(
      m.list({ enabled: true, capability: ['volumedriver'] }).map((p) => p.Name),
      ['t/warn:latest'],
    );
    assert.deepEqual(m.list({ capability: ['networkdriver'] }), []);
    assert.deepEqual(
      m.list({ enabled: false }).filter((p) => p.Name === 't/warn:latest'),
      [],
    );
    await m.remove('t/warn', { force: true });
  });

  it('serialises concurrent enable/disable/set on one plugin', async () => {
    const m = manager();
    await m.init();
    await m.create('t/race', { dir: behave });
    await m.set('t/race', ['MODE=listen', `state=${join(dir, 'state')}`]);
    const results = await Promise.allSettled([
      m.enable('t/race'),
      m.enable('t/race'),
      m.set('t/race', ['MODE=crash']),
      m.disable('t/race'),
      m.disable('t/race'),
      m.set('t/race', ['EXIT_CODE=9']),
      m.enable('t/race'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.equal(m.inspect('t/race').Status.State, 'running');
    assert.deepEqual(m.inspect('t/race').Settings.Env, ['MODE=listen', 'EXIT_CODE=9']);
    assert.deepEqual(runcIds(join(dir, 'exec/runtime-runc')).length, 1);
    await m.remove('t/race', { force: true });
  });

  it('restores enabled plugins after a restart, and reaches sockets under a very long exec root', async () => {
    const longRoot = join(dir, 'l'.repeat(60), 'o'.repeat(60));
    mkdirSync(longRoot, { recursive: true });
    const a = manager({}, longRoot);
    await a.init();
    const p = await a.create('t/restore', { dir: behave });
    await a.set('t/restore', ['MODE=listen', `state=${join(dir, 'state')}`]);
    await a.enable('t/restore');
    assert.ok(join(a.socketDir(p.Id), 'behave.sock').length > 108);
    await a.shutdown(); // daemon stop: Enabled stays true
    const b = manager({}, longRoot);
    const report = await b.init();
    assert.deepEqual(report.restored, ['t/restore:latest']);
    assert.equal(b.inspect('t/restore').Status.State, 'running');
    await b.remove('t/restore', { force: true });
  });
});
