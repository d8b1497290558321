/**
 * Plugins and a real registry (docker-registry 2.8) through berthd: the docker CLI pushes, installs (pull +
 * set + enable) and upgrades; the API reports privileges and refuses wrong ones before any data moves;
 * registry errors get their own status codes; a registry with Basic auth works with `docker login`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { encodeRegistryAuth, MEDIA_TYPES, RegistryClient, sha256 } from '../../src/registry/index.ts';
import { runBerth, type TestDaemon, testDaemon } from './berthd.ts';
import { skipUnlessRegistry, startRegistry, type TestRegistry } from './registry.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers() || skipUnlessRegistry();

interface Manifest {
  Description: string;
  Env?: { Name: string; Settable?: string[]; Value: string }[];
  Linux?: { Capabilities?: string[] };
  Mounts?: { Source: string; Destination: string; Type: string; Options: string[] }[];
}

describe('berthd plugins and a registry', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let agent: Agent;
  let ctx: string;
  const dockerConfig = () => join(d.dir, 'docker-config');
  const docker = (args: string[], input?: string) => {
    const r = spawnSync('docker', args, {
      encoding: 'utf8',
      input,
      env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: dockerConfig() },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const api = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const r = await request(`http://berth${path}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  };
  /** A plugin context: the static mini plugin with this manifest. */
  const context = (name: string, manifest: Manifest) => {
    const dir = join(d.dir, name);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    spawnSync('cp', [join(ctx, 'rootfs', 'mini-plugin'), join(dir, 'rootfs')]);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        ...manifest,
        Entrypoint: ['/mini-plugin'],
        Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'mini.sock' },
      }),
    );
    return dir;
  };
  const publish = (ref: string, dir: string) => {
    assert.equal(docker(['plugin', 'create', ref, dir]).code, 0);
    const push = docker(['plugin', 'push', ref]);
    assert.equal(push.code, 0, push.err);
    assert.equal(docker(['plugin', 'rm', ref]).code, 0);
    return push.out;
  };

  before(async () => {
    d = testDaemon('berth-reg');
    ctx = miniContext(d.dir);
    reg = await startRegistry(join(d.dir, 'registry'));
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
  });
  after(async () => {
    await agent?.close();
    await reg?.stop();
    await d?.cleanup();
  });

  it('pushes with the docker CLI: a schema2 manifest whose config marks a plugin, readable by any registry client', async () => {
    const ref = `${reg.domain}/berth/mini:1.0`;
    const out = publish(
      ref,
      context('v1', { Description: 'mini v1', Env: [{ Name: 'MODE', Settable: ['value'], Value: 'a' }] }),
    );
    assert.match(out, new RegExp(`The push refers to repository \\[${reg.domain}/berth/mini\\]`));
    const digest = /1\.0: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)?.[1];
    assert.ok(digest, out);
    const r = await fetch(`${reg.url}/v2/berth/mini/manifests/1.0`, {
      headers: { accept: MEDIA_TYPES.dockerManifest },
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(sha256(bytes), digest);
    const manifest = JSON.parse(bytes.toString());
    assert.equal(manifest.config.mediaType, MEDIA_TYPES.pluginConfig);
    assert.deepEqual(
      manifest.layers.map((l: { mediaType: string }) => l.mediaType),
      [MEDIA_TYPES.dockerLayerGzip],
    );
    const config = (await (
      await fetch(`${reg.url}/v2/berth/mini/blobs/${manifest.config.digest}`)
    ).json()) as {
      Description: string;
      rootfs: { type: string; diff_ids: string[] };
    };
    assert.equal(config.Description, 'mini v1');
    assert.equal(config.rootfs.type, 'layers');
    assert.match(config.rootfs.diff_ids[0] ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('installs with the docker CLI: pull, set, enable; PluginReference and events name the remote', async () => {
    const remote = `${reg.domain}/berth/mini:1.0`;
    const install = docker([
      'plugin',
      'install',
      '--grant-all-permissions',
      '--alias',
      'mini',
      remote,
      'MODE=b',
    ]);
    assert.equal(install.code, 0, install.err);
    assert.match(install.out, /Download complete/);
    assert.match(install.out, new RegExp(`Installed plugin ${remote.replace(/\./g, '\\.')}`));
    const p = JSON.parse(docker(['plugin', 'inspect', 'mini']).out)[0];
    assert.equal(p.Name, 'mini:latest');
    assert.equal(p.Enabled, true);
    assert.equal(p.PluginReference, remote);
    assert.deepEqual(p.Settings.Env, ['MODE=b']);
    assert.equal(p.Status.State, 'running');
    const events = await api('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}`);
    const pulls = events.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.Action === 'pull');
    assert.equal(pulls.at(-1)?.Actor.ID, remote);
    // A second install under the same name is refused before anything is fetched.
    const again = await api('POST', `/plugins/pull?remote=${remote}&name=mini`, []);
    assert.equal(again.status, 409);
    assert.match(again.text, /plugin mini:latest already exists/);
    assert.equal(docker(['plugin', 'rm', '-f', 'mini']).code, 0);
  });

  it('reports privileges and refuses a pull whose privileges do not match, creating nothing', async () => {
    const remote = `${reg.domain}/berth/needy:1`;
    publish(
      remote,
      context('needy', {
        Description: 'needs things',
        Linux: { Capabilities: ['CAP_SYS_ADMIN'] },
        Mounts: [{ Source: '/tmp', Destination: '/host-tmp', Type: 'bind', Options: ['rbind'] }],
      }),
    );
    const priv = await api('GET', `/plugins/privileges?remote=${remote}`);
    assert.equal(priv.status, 200);
    const privileges = JSON.parse(priv.text);
    assert.deepEqual(privileges, [
      { Name: 'mount', Description: 'host path to mount', Value: ['/tmp'] },
      {
        Name: 'capabilities',
        Description: 'list of additional capabilities required',
        Value: ['CAP_SYS_ADMIN'],
      },
    ]);
    const refused = await api('POST', `/plugins/pull?remote=${remote}`, []);
    assert.equal(refused.status, 403);
    assert.match(
      refused.text,
      /incorrect privileges: the plugin asks for mount=\[\/tmp\], capabilities=\[CAP_SYS_ADMIN\]/,
    );
    assert.equal(JSON.parse((await api('GET', '/plugins')).text).length, 0);
    assert.equal(readdirSync(join(d.dataRoot, 'plugins', 'tmp')).length, 0, 'no staging left behind');
    const bad = await api('POST', `/plugins/pull?remote=${remote}`, { Name: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /failed to parse privileges/);
    // Order does not matter (dockerd never compared entry 0).
    const ok = await api('POST', `/plugins/pull?remote=${remote}`, [...privileges].reverse());
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['docker-plugin-name'], remote);
    assert.match(ok.text, /"status":"Status: Downloaded newer image for /);
    // The docker CLI shows them and asks; "n" declines and nothing is installed.
    const declined = docker(['plugin', 'install', '--alias', 'needy2', remote], 'n\n');
    assert.notEqual(declined.code, 0);
    assert.match(declined.out, /capabilities: \[CAP_SYS_ADMIN\]/);
    assert.doesNotMatch(docker(['plugin', 'ls']).out, /needy2/);
    assert.equal(docker(['plugin', 'rm', remote]).code, 0);
  });

  it('answers registry problems with their own status codes and clear messages', async () => {
    const missing = await api('GET', `/plugins/privileges?remote=${reg.domain}/berth/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.text, /manifest for .*berth\/nope:latest not found: manifest unknown/);
    const pull = await api('POST', `/plugins/pull?remote=${reg.domain}/berth/nope`, []);
    assert.equal(pull.status, 404);
    const closed = await api('GET', '/plugins/privileges?remote=localhost:1/x/y');
    assert.equal(closed.status, 503);
    assert.match(
      JSON.parse(closed.text).message,
      /error resolving plugin reference: failed to do request: GET "http:\/\/localhost:1\/v2\/x\/y\/manifests\/latest": connect ECONNREFUSED/,
    );
    const upper = await api('GET', '/plugins/privileges?remote=Berth/X');
    assert.equal(upper.status, 400);
    assert.match(upper.text, /must be lowercase/);
    const noRemote = await api('POST', '/plugins/pull', []);
    assert.equal(noRemote.status, 400);
    assert.match(noRemote.text, /remote is required/);
    const digestName = await api(
      'POST',
      `/plugins/pull?remote=${reg.domain}/berth/mini:1.0&name=x@sha256:${'a'.repeat(64)}`,
      [],
    );
    assert.equal(digestName.status, 400);
    assert.match(digestName.text, /cannot use digest in plugin tag/);
    // A container image is not a plugin: say so instead of failing on its config.
    const client = new RegistryClient({
      domain: reg.domain,
      path: 'berth/image',
      actions: 'pull,push',
      insecure: true,
    });
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    await client.pushBlob(sha256(config), config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: config.length,
          digest: sha256(config),
        },
        layers: [],
      }),
    );
    await client.pushManifest('latest', MEDIA_TYPES.dockerManifest, manifest);
    const image = docker(['plugin', 'install', '--grant-all-permissions', `${reg.domain}/berth/image`]);
    assert.notEqual(image.code, 0);
    assert.match(
      image.err,
      /is not a plugin: its config is application\/vnd\.docker\.container\.image\.v1\+json/,
    );
  });

  it('upgrades with the docker CLI: new rootfs and manifest, user settings kept, refused while enabled', async () => {
    publish(
      `${reg.domain}/berth/mini:2.0`,
      context('v2', {
        Description: 'mini v2',
        Env: [
          { Name: 'MODE', Settable: ['value'], Value: 'a' },
          { Name: 'LEVEL', Settable: ['value'], Value: '3' },
        ],
      }),
    );
    const remote = `${reg.domain}/berth/mini:1.0`;
    assert.equal(
      docker(['plugin', 'install', '--grant-all-permissions', '--alias', 'up', remote, 'MODE=z']).code,
      0,
    );
    const busy = await api('POST', `/plugins/up/upgrade?remote=${reg.domain}/berth/mini:2.0`, []);
    assert.equal(busy.status, 409);
    assert.match(busy.text, /plugin must be disabled before upgrading: plugin up:latest is enabled/);
    assert.equal(docker(['plugin', 'disable', 'up']).code, 0);
    const up = docker([
      'plugin',
      'upgrade',
      '--grant-all-permissions',
      '--skip-remote-check',
      'up',
      `${reg.domain}/berth/mini:2.0`,
    ]);
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /Settings kept: MODE=z/);
    const p = JSON.parse(docker(['plugin', 'inspect', 'up']).out)[0];
    assert.equal(p.Config.Description, 'mini v2');
    assert.equal(p.PluginReference, `${reg.domain}/berth/mini:2.0`);
    assert.deepEqual(p.Settings.Env.sort(), ['LEVEL=3', 'MODE=z']);
    assert.equal(docker(['plugin', 'enable', 'up']).code, 0);
    const files = readdirSync(join(d.dataRoot, 'plugins', p.Id));
    assert.ok(!files.includes('rootfs-old') && !files.includes('state.next.json'), files.join(' '));
    assert.equal(docker(['plugin', 'rm', '-f', 'up']).code, 0);
  });

  it('stops a pull when the client goes away, leaving no plugin and no staging behind', async () => {
    const remote = `${reg.domain}/berth/big:1`;
    const dir = context('big', { Description: 'big' });
    writeFileSync(join(dir, 'rootfs', 'blob'), randomBytes(96 * 1024 * 1024));
    publish(remote, dir);
    const stop = new AbortController();
    const r = await request(`http://berth/plugins/pull?remote=${remote}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: '[]',
      signal: stop.signal,
    });
    assert.equal(r.statusCode, 200);
    stop.abort();
    await r.body.text().catch(() => undefined);
    const deadline = Date.now() + 10_000;
    const staging = join(d.dataRoot, 'plugins', 'tmp');
    while (readdirSync(staging).length && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(readdirSync(staging), []);
    assert.doesNotMatch((await api('GET', '/plugins')).text, /berth\/big/);
    assert.match(d.log(), /download cancelled: the client went away|the client went away/);
  });

  it('works with a registry that needs a login: docker login through berthd, then push and pull with the credentials', async () => {
    const htpasswd = spawnSync('htpasswd', ['-nbB', 'alice', 's3cret'], { encoding: 'utf8' });
    assert.equal(htpasswd.status, 0, 'htpasswd is missing: bash scripts/setup.sh installs apache2-utils');
    const locked = await startRegistry(join(d.dir, 'locked'), { htpasswd: htpasswd.stdout });
    try {
      const remote = `${locked.domain}/team/mini:1`;
      assert.equal(
        docker(['plugin', 'create', remote, context('locked', { Description: 'locked' })]).code,
        0,
      );
      const anonymous = docker(['plugin', 'push', remote]);
      assert.notEqual(anonymous.code, 0);
      assert.match(anonymous.err, /push access denied for .*team\/mini/);
      const wrong = docker(['login', '-u', 'alice', '--password-stdin', locked.domain], 'nope\n');
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.err, /login to localhost:\d+ failed: the registry answered 401 Unauthorized/);
      const login = docker(['login', '-u', 'alice', '--password-stdin', locked.domain], 's3cret\n');
      assert.equal(login.code, 0, login.err);
      assert.match(login.out, /Login Succeeded/);
      const push = docker(['plugin', 'push', remote]);
      assert.equal(push.code, 0, push.err);
      assert.equal(docker(['plugin', 'rm', remote]).code, 0);
      const noAuth = await api('GET', `/plugins/privileges?remote=${remote}`);
      assert.equal(noAuth.status, 401);
      const withAuth = await api('GET', `/plugins/privileges?remote=${remote}`, undefined, {
        'x-registry-auth': encodeRegistryAuth({
          username: 'alice',
          password: 's3cret',
          serveraddress: locked.domain,
        }),
      });
      assert.equal(withAuth.status, 200, withAuth.text);
      const install = docker(['plugin', 'install', '--grant-all-permissions', '--disable', remote]);
      assert.equal(install.code, 0, install.err);
      assert.equal(docker(['plugin', 'rm', remote]).code, 0);

      // berth's own CLI, with the login the docker CLI stored.
      const berth = (...args: string[]) => runBerth(d.host, args);
      const other = `${locked.domain}/team/other:1`;
      assert.equal(
        (await berth('plugin', 'create', other, context('other', { Description: 'other' }))).code,
        0,
      );
      const denied = await berth('plugin', 'push', other);
      assert.match(denied.stderr, /push access denied/);
      process.env.DOCKER_CONFIG = dockerConfig();
      try {
        const pushed = await berth('plugin', 'push', other);
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.match(pushed.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
        const installed = await berth('plugin', 'install', '--alias', 'viaberth', other);
        assert.equal(installed.code, 0, installed.stderr);
        assert.match(installed.stdout, /Download complete[\s\S]*Installed plugin/);
        assert.equal(
          JSON.parse((await berth('plugin', 'inspect', 'viaberth')).stdout)[0].Status.State,
          'running',
        );
        assert.equal((await berth('plugin', 'disable', 'viaberth')).code, 0);
        const upgraded = await berth('plugin', 'upgrade', 'viaberth');
        assert.equal(upgraded.code, 0, upgraded.stderr);
        assert.match(upgraded.stdout, /Status: Upgraded viaberth:latest to localhost:\d+\/team\/other:1/);
      } finally {
        delete process.env.DOCKER_CONFIG;
      }
      assert.equal((await berth('plugin', 'rm', 'viaberth', other)).code, 0);
    } finally {
      await locked.stop();
    }
  });
});
