/**
 * Managed plugins through berthd end to end: the real docker CLI and the berth CLI drive the example
 * local-volume plugin; kill -9 of berthd and restore.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageAuthzDeny, packageLocalVolume } from '../../examples/local-volume/package.ts';
import { API_VERSION } from '../../src/api/index.ts';
import { runBerth, type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { runcContainers } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();

describe('berthd managed plugins', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const runcIds = () => runcContainers(d.execRoot).map((c) => `${c.id}:${c.pid}`);
  before(async () => {
    d = testDaemon('berth-plg');
    ctx = await packageLocalVolume(join(d.dir, 'ctx'));
    await d.start(['--no-runtime-smoke-test']);
  });
  after(() => d.cleanup());

  it('serves the docker CLI: create, ls, enable, inspect, set, disable, rm, with its error messages', () => {
    assert.deepEqual(docker('plugin', 'create', 'example/vol', ctx), {
      code: 0,
      stdout: 'example/vol\n',
      stderr: '',
    });
    const dup = docker('plugin', 'create', 'example/vol', ctx);
    assert.match(dup.stderr, /Error response from daemon: plugin example\/vol:latest already exists/);
    assert.doesNotMatch(dup.stderr, /closed pipe/);
    assert.match(
      docker('plugin', 'ls').stdout,
      /^ID\s+NAME\s+DESCRIPTION\s+ENABLED\n[0-9a-f]{12}\s+example\/vol:latest\s+berth example: .*\s+false\n$/,
    );
    assert.equal(docker('plugin', 'enable', 'example/vol').code, 0);
    assert.equal(
      docker(
        'plugin',
        'ls',
        '-q',
        '--filter',
        'enabled=true',
        '--filter',
        'capability=volumedriver',
      ).stdout.trim().length,
      12,
    );
    assert.equal(docker('plugin', 'ls', '-q', '--filter', 'enabled=false').stdout, '');
    assert.match(
      docker('plugin', 'ls', '--filter', 'enabled=maybe').stderr,
      /Invalid filter 'enabled=\[maybe\]'/,
    );
    const inspect = JSON.parse(docker('plugin', 'inspect', 'example/vol').stdout)[0];
    assert.equal(inspect.Enabled, true);
    assert.equal(inspect.Status.State, 'running');
    assert.match(
      docker('plugin', 'set', 'example/vol', 'VOLUME_ROOT=/data/v2').stderr,
      /cannot set on an active plugin, disable plugin before setting/,
    );
    assert.match(
      docker('plugin', 'enable', 'example/vol').stderr,
      /plugin already enabled: plugin example\/vol:latest is enabled/,
    );
    assert.match(docker('plugin', 'rm', 'example/vol').stderr, /plugin example\/vol:latest is enabled/);
    assert.equal(docker('plugin', 'disable', 'example/vol').code, 0);
    assert.match(
      docker('plugin', 'disable', 'example/vol').stderr,
      /plugin is already disabled: plugin example\/vol:latest found but disabled/,
    );
    assert.match(
      docker('plugin', 'set', 'example/vol', 'NOPE=1').stderr,
      /setting "NOPE" not found in the plugin configuration/,
    );
    assert.equal(docker('plugin', 'set', 'example/vol', 'VOLUME_ROOT=/data/v2').code, 0);
    assert.deepEqual(JSON.parse(docker('plugin', 'inspect', 'example/vol').stdout)[0].Settings.Env, [
      'VOLUME_ROOT=/data/v2',
    ]);
    assert.match(
      docker('plugin', 'inspect', 'nope').stderr,
      /Error response from daemon: plugin "nope" not found/,
    );
    assert.equal(docker('plugin', 'rm', 'example/vol').code, 0);
    assert.deepEqual(runcIds(), []);
  });

  it('answers docker version and docker info', () => {
    const v = docker('version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim().split(' ')[0], API_VERSION);
    const info = docker('info', '--format', '{{.DefaultRuntime}} {{.OSType}}');
    assert.equal(info.stdout.trim(), 'runc linux');
  });

  it('streams plugin events to docker events, with since/until and filters', () => {
    /** Everything recorded so far that passes `filter`, as `docker events` prints it with `format`. */
    const recorded = (filter: string, format: string) =>
      docker(
        'events',
        '--since',
        '0',
        '--until',
        String(Math.ceil(Date.now() / 1000) + 1),
        '--filter',
        filter,
        '--format',
        format,
      );
    const r = recorded('type=plugin', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'create example/vol:latest',
      'enable example/vol',
      'disable example/vol',
      'remove example/vol',
    ]);
    assert.equal(recorded('event=enable', '{{.Type}}').stdout, 'plugin\n');
    assert.match(
      docker('events', '--since', '0', '--until', '1', '--filter', 'color=red').stderr,
      /Invalid filter 'color'/,
    );
  });

  it('serves dockerode: ping, version, info, plugin list/inspect/enable/disable/remove, create through modem.dial', async () => {
    const Docker = (await import('dockerode')).default;
    const client = new Docker({ socketPath: d.socket });
    assert.equal(String(await client.ping()), 'OK');
    assert.equal((await client.version()).ApiVersion, API_VERSION);
    const { createReadStream } = await import('node:fs');
    execFileSync('tar', ['-cf', join(d.dir, 'ctx.tar'), '-C', ctx, '.']);
    await new Promise<void>((resolve, reject) =>
      client.modem.dial(
        {
          path: '/plugins/create?',
          method: 'POST',
          file: createReadStream(join(d.dir, 'ctx.tar')),
          options: { name: 'dockerode/vol' },
          headers: { 'Content-Type': 'application/x-tar' },
          statusCodes: { 204: true, 400: 'bad parameter', 409: 'conflict', 500: 'server error' },
        },
        (err: unknown) => (err ? reject(err) : resolve()),
      ),
    );
    const plugin = client.getPlugin('dockerode/vol', '');
    await plugin.enable({ timeout: 30 } as never);
    assert.equal((await plugin.inspect()).Enabled, true);
    assert.deepEqual((await client.info()).Plugins.Volume, ['dockerode/vol:latest']);
    assert.deepEqual(
      (await client.listPlugins()).map((p: { Name: string }) => p.Name),
      ['dockerode/vol:latest'],
    );
    await plugin.disable({});
    await plugin.remove({});
    await assert.rejects(
      client.getPlugin('dockerode/vol', '').inspect(),
      /plugin "dockerode\/vol" not found/,
    );
  });

  it('serves docker volume create/ls/inspect/rm through the example driver, with refcounts and a driver that is down', async () => {
    assert.equal(docker('plugin', 'create', 'example/vol', ctx).code, 0);
    assert.equal(docker('plugin', 'enable', 'example/vol').code, 0);
    assert.deepEqual(docker('volume', 'create', '-d', 'example/vol', '--label', 'team=a', 'v1'), {
      code: 0,
      stdout: 'v1\n',
      stderr: '',
    });
    assert.match(docker('volume', 'ls').stdout, /^DRIVER\s+VOLUME NAME\nexample\/vol:latest\s+v1\n$/);
    const v1 = JSON.parse(docker('volume', 'inspect', 'v1').stdout)[0];
    assert.equal(v1.Driver, 'example/vol:latest');
    assert.deepEqual(v1.Labels, { team: 'a' });
    assert.match(v1.Mountpoint, /\/plugins\/[0-9a-f]{64}\/propagated-mount\/volumes\/v1$/);
    assert.ok(existsSync(v1.Mountpoint), 'the volume directory is on the host');
    assert.match(docker('plugin', 'disable', 'example/vol').stderr, /plugin example\/vol:latest is in use/);
    assert.match(docker('plugin', 'rm', '-f', 'example/vol').stderr, /^$/, 'force is allowed');
    // The driver is gone: the volume is still listed, with the reason.
    const down = JSON.parse(docker('volume', 'inspect', 'v1').stdout)[0];
    assert.match(down.Status.error, /plugin "example\/vol:latest" not found/);
    assert.equal(docker('volume', 'rm', '-f', 'v1').code, 0);
    assert.equal(docker('volume', 'ls', '-q').stdout, '');
    // Restart: the mapping and the plugin's reference survive.
    assert.equal(docker('plugin', 'create', 'example/vol', ctx).code, 0);
    assert.equal(docker('plugin', 'enable', 'example/vol').code, 0);
    assert.equal(docker('volume', 'create', '-d', 'example/vol', 'v2').code, 0);
    await d.stop('SIGTERM');
    await d.start(['--no-runtime-smoke-test']);
    assert.equal(docker('volume', 'ls', '-q').stdout, 'v2\n');
    assert.match(docker('plugin', 'disable', 'example/vol').stderr, /is in use/);
    assert.equal(docker('volume', 'rm', 'v2').code, 0);
    assert.match(docker('volume', 'inspect', 'v2').stderr, /no such volume/);
    // The same through berth's CLI.
    const cli = (...args: string[]) => runBerth(d.host, args);
    assert.deepEqual(await cli('volume', 'create', '-d', 'example/vol', '--label', 'x=1', 'v3'), {
      code: 0,
      stdout: 'v3\n',
      stderr: '',
    });
    assert.match(
      (await cli('volume', 'ls')).stdout,
      /^DRIVER\s+VOLUME NAME\s+STATUS\nexample\/vol:latest\s+v3\n$/,
    );
    assert.deepEqual(JSON.parse((await cli('volume', 'inspect', 'v3')).stdout)[0].Labels, { x: '1' });
    assert.equal((await cli('volume', 'prune')).stdout, 'v3\n');
    assert.equal(docker('plugin', 'rm', '-f', 'example/vol').code, 0);
  });

  it('refuses a bad manifest through the API with every problem, and leaves nothing', () => {
    const bad = join(d.dir, 'bad ctx');
    mkdirSync(join(bad, 'rootfs'), { recursive: true });
    writeFileSync(join(bad, 'rootfs', 'f'), 'x');
    writeFileSync(
      join(bad, 'config.json'),
      JSON.stringify({
        Interface: { Types: ['docker.VolumeDriver/1.0'], Socket: 'x.sock' },
        Entrypoint: ['/p'],
      }),
    );
    const r = docker('plugin', 'create', 'bad/plugin', bad);
    assert.match(
      r.stderr,
      /invalid plugin config.json:\n\s+Interface.Types\[0\] "docker.VolumeDriver\/1.0" must look like "docker.volumedriver\/1.0"/,
    );
    assert.equal(docker('plugin', 'ls', '-q').stdout, '');
  });

  it('berth plugin commands and logs; kill -9 of berthd, then the restore adopts the running plugin', async () => {
    const cli = (...args: string[]) => runBerth(d.host, args);
    assert.equal((await cli('plugin', 'create', 'example/vol', ctx)).code, 0);
    assert.equal((await cli('plugin', 'enable', 'example/vol')).code, 0);
    assert.match(
      (await cli('plugin', 'logs', 'example/vol')).stdout,
      /local-volume: listening on \/run\/docker\/plugins\/local-volume.sock/,
    );
    const before = runcIds();
    assert.equal(before.length, 1);
    await d.stop('SIGKILL');
    await d.start(['--no-runtime-smoke-test']);
    const after = runcIds();
    assert.deepEqual(after, before, 'the same container, same pid: adopted, not restarted');
    assert.match(d.log(), /plugin example\/vol:latest: adopted its running container/);
    const ls = await cli('plugin', 'ls', '--format', 'json');
    assert.deepEqual(
      JSON.parse(ls.stdout).map((p: { Name: string; Status: { State: string } }) => [p.Name, p.Status.State]),
      [['example/vol:latest', 'running']],
    );
    await waitFor(() => /plugins restored/.test(d.log()), 5000, 'the restore log line');
    const rm = await cli('plugin', 'rm', '-f', 'example/vol');
    assert.deepEqual([rm.code, rm.stdout], [0, 'example/vol\n']);
  });
});

describe('berthd authorization plugins', { skip }, () => {
  let d: TestDaemon;
  let authzCtx: string;
  let volCtx: string;
  const docker = (...args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    d = testDaemon('berth-authz');
    authzCtx = await packageAuthzDeny(join(d.dir, 'authz ctx'));
    volCtx = await packageLocalVolume(join(d.dir, 'vol ctx'));
    d.writeConfig({ 'authorization-plugins': ['example/authz', 'example/vol'] });
    await d.start(['--no-runtime-smoke-test']);
  });
  after(() => d.cleanup());

  it('denies what the example authz plugin denies, through the docker CLI; fails closed; rm -f leaves the chain', () => {
    // Chain plugins that are not installed yet are skipped, so they can be installed.
    assert.equal(docker('plugin', 'create', 'example/authz', authzCtx).code, 0);
    assert.equal(docker('plugin', 'enable', 'example/authz').code, 0);
    assert.equal(docker('plugin', 'create', 'example/vol', volCtx).code, 0);
    // example/vol is in the chain but is not an authz plugin: once enabled, every request fails closed, starting
    // with the answer to its own enable (the response goes through AuthZRes, as in dockerd).
    const enable = docker('plugin', 'enable', 'example/vol');
    assert.match(enable.stderr, /authorization plugin example\/vol failed, request denied/);
    const closed = docker('plugin', 'ls');
    assert.match(
      closed.stderr,
      /authorization plugin example\/vol failed, request denied: plugin example\/vol:latest does not provide "authz" capability/,
    );
    // Admin escape hatch documented in the README: a chain plugin that is disabled is skipped.
    assert.equal(
      spawnSync('docker', ['plugin', 'disable', 'example/vol'], {
        env: { ...process.env, DOCKER_HOST: d.host },
      }).status,
      1,
    );
    d.writeConfig({ 'authorization-plugins': ['example/authz'] });
    d.process.kill('SIGHUP');
    return waitFor(() => docker('plugin', 'ls').code === 0, 10_000, 'the reloaded chain').then(() => {
      assert.equal(docker('volume', 'create', '-d', 'example/vol', 'v1').code, 0);
      const denied = docker('volume', 'rm', 'v1');
      assert.match(
        denied.stderr,
        /authorization denied by plugin example\/authz: DELETE \/volumes\/v1 is denied by policy \^DELETE \/volumes\//,
      );
      assert.equal(docker('volume', 'ls', '-q').stdout, 'v1\n');
      // rm -f takes the plugin out of the chain (dockerd leaves it there and keeps denying).
      assert.equal(docker('plugin', 'rm', '-f', 'example/authz').code, 0);
      assert.equal(docker('volume', 'rm', 'v1').code, 0);
    });
  });
});
