/**
 * What the ecosystem really sends, through berthd: a manifest written as Docker's documentation writes it (lower
 * case), request bodies with any content type or none, and clients pinned at API versions 1.41, 1.45 and 1.50 —
 * the docker CLI, dockerode and the Python docker SDK (Debian's python3-docker). When the reference dockerd is
 * installed, the same Python SDK run goes against it too and both must agree step by step.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { type TestDaemon, testDaemon, waitFor } from './berthd.ts';
import { skipUnlessRegistry, startRegistry, type TestRegistry } from './registry.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const PYTHON = '/usr/bin/python3';
const SDK_SCRIPT = new URL('../fixtures/python/plugin_sdk.py', import.meta.url).pathname;
const REFERENCE_DOCKERD = new URL('../../../shared/tools/reference-dockerd', import.meta.url).pathname;
const hasPythonSdk = () => spawnSync(PYTHON, ['-c', 'import docker']).status === 0;
const skip =
  skipUnlessContainers() ||
  skipUnlessRegistry() ||
  (hasPythonSdk() || process.env.CI === 'true' ? false : 'python3-docker is missing (bash scripts/setup.sh)');

/** The mini plugin with its manifest in lower case, as docs/extend/index.md writes manifests. */
const LOWER_CASE_MANIFEST = {
  description: 'a plugin whose manifest is written the way Docker documents it',
  documentation: 'https://docs.docker.com/engine/extend/',
  entrypoint: ['/mini-plugin'],
  env: [{ name: 'DEBUG', settable: ['value'], value: '0' }],
  interface: { socket: 'mini.sock', types: ['docker.volumedriver/1.0'] },
  network: { type: 'host' },
  linux: { capabilities: ['CAP_SYS_ADMIN'] },
  propagatedmount: '/mnt/volumes',
};

interface Step {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function pythonSdk(host: string, version: string, ctx: string, registry: string, name: string): Step[] {
  const r = spawnSync(PYTHON, [SDK_SCRIPT, host, version, ctx, registry, name], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Step);
}

describe('real clients and real manifests', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let agent: Agent;
  let ctx: string;
  const docker = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync('docker', args, {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: d.host, ...env },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const raw = async (method: 'GET' | 'POST', path: string, body?: Buffer | string, type?: string) => {
    const r = await request(`http://berth${path}`, {
      method,
      dispatcher: agent,
      headers: type ? { 'content-type': type } : {},
      ...(body === undefined ? {} : { body }),
    });
    return { status: r.statusCode, text: await r.body.text() };
  };

  before(async () => {
    d = testDaemon('berth-clients');
    ctx = miniContext(d.dir);
    writeFileSync(join(ctx, 'config.json'), JSON.stringify(LOWER_CASE_MANIFEST));
    reg = await startRegistry(join(d.dir, 'registry'));
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
  });
  after(async () => {
    await agent?.close();
    await reg?.stop();
    await d?.cleanup();
  });

  it('creates, enables, pushes, installs and upgrades a lower-case manifest with the docker CLI', () => {
    const ref = `${reg.domain}/docs/lower:1.0`;
    assert.deepEqual(docker(['plugin', 'create', ref, ctx]), { code: 0, out: `${ref}\n`, err: '' });
    const inspect = JSON.parse(docker(['plugin', 'inspect', ref]).out)[0];
    assert.deepEqual(inspect.Config.Interface, { Types: ['docker.volumedriver/1.0'], Socket: 'mini.sock' });
    assert.equal(inspect.Config.PropagatedMount, '/mnt/volumes');
    assert.deepEqual(inspect.Config.Linux.Capabilities, ['CAP_SYS_ADMIN']);
    assert.deepEqual(inspect.Status.Warnings, []);
    assert.equal(docker(['plugin', 'enable', ref]).code, 0);
    assert.equal(docker(['plugin', 'disable', ref]).code, 0);
    const push = docker(['plugin', 'push', ref]);
    assert.equal(push.code, 0, push.err);
    const install = docker([
      'plugin',
      'install',
      '--grant-all-permissions',
      '--alias',
      'lower',
      ref,
      'DEBUG=1',
    ]);
    assert.equal(install.code, 0, install.err);
    assert.match(docker(['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}']).out, /lower:latest true/);
    assert.equal(docker(['plugin', 'disable', 'lower']).code, 0);
    const upgrade = docker(['plugin', 'upgrade', '--grant-all-permissions', 'lower', ref]);
    assert.equal(upgrade.code, 0, upgrade.err);
    assert.equal(docker(['plugin', 'rm', 'lower', ref]).code, 0);
  });

  it('warns about unknown manifest keys in Status.Warnings instead of refusing the plugin', async () => {
    const dir = join(d.dir, 'unknown-keys');
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    spawnSync('cp', [join(ctx, 'rootfs', 'mini-plugin'), join(dir, 'rootfs')]);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...LOWER_CASE_MANIFEST, entrypiont: ['/x'] }));
    assert.equal(docker(['plugin', 'create', 'docs/unknown', dir]).code, 0);
    const warnings = JSON.parse(docker(['plugin', 'inspect', 'docs/unknown']).out)[0].Status.Warnings;
    assert.deepEqual(warnings, ['config.json.entrypiont: unknown key ignored (did you mean "Entrypoint"?)']);
    const logged = /created plugin docs\/unknown:latest .*manifest warnings: config.json.entrypiont/;
    await waitFor(() => logged.test(d.log()), 5000, 'the create log line');
    assert.equal(docker(['plugin', 'rm', 'docs/unknown']).code, 0);
  });

  it('takes request bodies with no content type, octet-stream, x-tar, text/plain or application/json', async () => {
    const tar = spawnSync('tar', ['-cf', '-', '-C', ctx, '.'], { maxBuffer: 64 << 20 }).stdout;
    const types = [
      undefined,
      'application/octet-stream',
      'application/x-tar',
      'text/plain',
      'application/json',
    ];
    for (const [i, type] of types.entries()) {
      const name = `ct/p${i}`;
      const body = i % 2 ? gzipSync(tar) : tar; // plain or gzip, told apart by the magic bytes
      const create = await raw('POST', `/v1.45/plugins/create?name=${name}`, body, type);
      assert.equal(create.status, 204, `${type}: ${create.text}`);
      const set = await raw('POST', `/v1.45/plugins/${name}/set`, '["DEBUG=2"]', type);
      assert.equal(set.status, 204, `${type}: ${set.text}`);
      const auth = await raw(
        'POST',
        '/v1.45/auth',
        JSON.stringify({ Username: 'u', Password: 'p', ServerAddress: reg.domain }),
        type,
      );
      assert.equal(auth.status, 200, `${type}: ${auth.text}`);
      const remote = `${reg.domain}/docs/lower:1.0`;
      const privileges = JSON.parse((await raw('GET', `/v1.45/plugins/privileges?remote=${remote}`)).text);
      const pull = await raw(
        'POST',
        `/v1.45/plugins/pull?remote=${remote}&name=ct/pulled${i}`,
        JSON.stringify(privileges),
        type,
      );
      assert.equal(pull.status, 200, `${type}: ${pull.text}`);
      assert.doesNotMatch(pull.text, /errorDetail/);
      const upgrade = await raw(
        'POST',
        `/v1.45/plugins/ct/pulled${i}/upgrade?remote=${remote}`,
        JSON.stringify(privileges),
        type,
      );
      assert.equal(upgrade.status, 200, `${type}: ${upgrade.text}`);
      const vol = await raw(
        'POST',
        '/v1.45/volumes/create',
        JSON.stringify({ name: 'v1', driver: 'none/such' }),
        type,
      );
      assert.equal(vol.status, 404, `${type}: ${vol.text}`); // decoded (lower-case keys): the driver is looked up
      for (const p of [name, `ct/pulled${i}`])
        assert.equal((await raw('POST', `/plugins/${p}/json`)).status, 404);
      for (const p of [name, `ct/pulled${i}`]) assert.equal(docker(['plugin', 'rm', '-f', p]).code, 0);
    }
  });

  it('serves clients pinned at 1.41, 1.45 and 1.50, and the docker CLI at each', async () => {
    for (const v of ['1.41', '1.45', '1.50']) {
      for (const path of [
        '/_ping',
        '/version',
        '/info',
        '/plugins',
        '/volumes',
        `/events?until=${Math.floor(Date.now() / 1000)}`,
      ]) {
        const r = await raw('GET', `/v${v}${path}`);
        assert.equal(r.status, 200, `/v${v}${path}: ${r.text}`);
      }
      const ls = docker(['plugin', 'ls'], { DOCKER_API_VERSION: v });
      assert.equal(ls.code, 0, `${v}: ${ls.err}`);
    }
    const Docker = (await import('dockerode')).default;
    const client = new Docker({ socketPath: d.socket, version: 'v1.41' });
    assert.equal((await client.version()).MinAPIVersion, '1.12');
    // dockerode's own upload of the lower-case plugin (its default content type), then its Plugin methods.
    const tar = join(d.dir, 'lower.tar');
    spawnSync('tar', ['-cf', tar, '-C', ctx, '.']);
    const { createReadStream } = await import('node:fs');
    await new Promise<void>((resolve, reject) =>
      client.modem.dial(
        {
          path: '/plugins/create?',
          method: 'POST',
          file: createReadStream(tar),
          options: { name: 'dockerode/lower' },
          statusCodes: { 204: true, 400: 'bad parameter', 500: 'server error' },
        },
        (err: unknown) => (err ? reject(err) : resolve()),
      ),
    );
    const plugin = client.getPlugin('dockerode/lower', '');
    await plugin.configure({ _body: ['DEBUG=3'] } as never);
    assert.deepEqual((await plugin.inspect()).Settings.Env, ['DEBUG=3']);
    await plugin.enable({ timeout: 30 } as never);
    assert.equal((await plugin.inspect()).Enabled, true);
    await plugin.disable({});
    await plugin.remove({});
  });

  it('passes the Python SDK plugin flow pinned at 1.45, as the reference dockerd does', () => {
    const berth = pythonSdk(d.host, '1.45', ctx, reg.domain, 'berth');
    for (const s of berth) assert.ok(s.ok, `berthd: ${s.step}: ${s.error}`);
    assert.deepEqual(berth.find((s) => s.step === 'inspect')?.value, ['docker.volumedriver/1.0']);
    assert.deepEqual(berth.find((s) => s.step === 'gone')?.value, []);
    const hasDockerd = spawnSync('sh', ['-c', 'command -v dockerd']).status === 0;
    if (!hasDockerd || !existsSync(REFERENCE_DOCKERD)) {
      assert.notEqual(
        process.env.CI,
        'true',
        'the reference dockerd is missing: bash scripts/setup.sh installs docker.io',
      );
      return;
    }
    const dir = join(d.dir, 'reference-dockerd');
    const started = spawnSync('bash', [REFERENCE_DOCKERD, 'start', dir], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    try {
      const reference = pythonSdk(`unix://${dir}/docker.sock`, '1.41', ctx, reg.domain, 'dockerd');
      assert.deepEqual(
        reference.map((s) => [s.step, s.ok]),
        berth.map((s) => [s.step, s.ok]),
        JSON.stringify(reference),
      );
    } finally {
      spawnSync('bash', [REFERENCE_DOCKERD, 'stop', dir]);
    }
  });
});
