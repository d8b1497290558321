/**
 * Fault tests: berthd is killed with SIGKILL at random moments while clients create, enable, set, disable and
 * remove plugins and reload runtimes; after each restart the state must be whole: every plugin loads, enabled
 * ones run in exactly one container, disabled ones in none, nothing half-written is left on disk. Also a full
 * disk during create and set (a small tmpfs data root), and a runtime binary removed while configured.
 *
 * The kill schedule comes from a seed (printed; BERTH_FAULT_SEED=<n> replays it).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { killRuncInitsUnder, runcInitsUnder, type TestDaemon, testDaemon } from './berthd.ts';
import { type PrivateContainerd, skipUnlessContainerd, startContainerd } from './cri.ts';
import { lastLines, runcContainers } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const KILLS = 50;

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The mini plugin with one settable env variable, MODE (so that `set` has something to change). */
function modeContext(dir: string): string {
  const ctx = miniContext(dir);
  const manifest = JSON.parse(readFileSync(join(ctx, 'config.json'), 'utf8'));
  manifest.Env = [{ Name: 'MODE', Settable: ['value'], Value: 'a' }];
  writeFileSync(join(ctx, 'config.json'), JSON.stringify(manifest));
  return ctx;
}

interface ApiPlugin {
  Id: string;
  Name: string;
  Enabled: boolean;
  Settings: { Env: string[] };
  Status: { State: string };
}

/** SIGTERM, and SIGKILL if berthd is not gone within `ms`. */
async function stopWithin(d: TestDaemon | undefined, ms: number): Promise<void> {
  if (!d?.process) return;
  const killer = setTimeout(() => d.process.kill('SIGKILL'), ms);
  await d.stop('SIGTERM');
  clearTimeout(killer);
}

/** How berthd runs containers in a fault run, and how the test reads what is running. */
interface Mode {
  readonly name: string;
  readonly kills: number;
  /** Extra berthd arguments. */
  args(): string[];
  setup(dir: string): Promise<void>;
  teardown(): Promise<void>;
  /** Running containers as `id running`. */
  running(d: TestDaemon): string[];
  /** Running containers' pids by id: kept across a berthd restart when adopted. */
  pids(d: TestDaemon): Map<string, number>;
  /** berthd kills the `runc init`s a dead shim left (containerd); under runc no init has a shim anyway. */
  readonly sweepsOrphans: boolean;
}

const RUNC_MODE: Mode = {
  name: 'runc',
  kills: KILLS,
  args: () => [],
  setup: async () => undefined,
  teardown: async () => undefined,
  running: (d) =>
    runcContainers(d.execRoot)
      .filter((c) => c.status === 'running')
      .map((c) => `${c.id} running`),
  // berth-spawner outlives each kill with the plugins' `runc run`: they must be adopted.
  pids: (d) =>
    new Map(
      runcContainers(d.execRoot)
        .filter((c) => c.status === 'running')
        .map((c) => [c.id, c.pid]),
    ),
  sweepsOrphans: false,
};

/** berthd --containerd over a private containerd: its tasks outlive each kill and must be adopted. */
function containerdMode(): Mode {
  let ctrd: PrivateContainerd | undefined;
  const ns = `berth-fault-${process.pid}`;
  const tasks = (): [string, number, string][] =>
    execFileSync('ctr', ['--address', ctrd?.socket ?? '', '-n', ns, 'tasks', 'ls'], { encoding: 'utf8' })
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/))
      .map(([id, pid, status]) => [id ?? '', Number(pid), status ?? '']);
  return {
    name: 'containerd',
    kills: 20,
    args: () => ['--containerd', `unix://${ctrd?.socket}`, '--containerd-namespace', ns],
    async setup(dir) {
      const config = join(dir, 'containerd.toml');
      writeFileSync(config, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n');
      ctrd = await startContainerd(join(dir, 'ctrd'), config);
    },
    teardown: async () => ctrd?.destroy(),
    running: () =>
      tasks()
        .filter(([, , st]) => st === 'RUNNING')
        .map(([id]) => `${id} running`),
    pids: () =>
      new Map(
        tasks()
          .filter(([, , st]) => st === 'RUNNING')
          .map(([id, pid]) => [id, pid]),
      ),
    sweepsOrphans: true,
  };
}

for (const mode of [RUNC_MODE, containerdMode()]) {
  const modeSkip = skip || (mode.name === 'containerd' ? skipUnlessContainerd() : false);
  describe(`berthd (${mode.name}) survives kill -9 at random points`, { skip: modeSkip }, () => {
    let d: TestDaemon;
    let tarBody: Buffer;
    let agent: Agent;
    let anchor = '';
    const seed = Number(process.env.BERTH_FAULT_SEED ?? Date.now() % 1_000_000);
    const rnd = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

    const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: Buffer | string) => {
      const r = await request(`http://berth${path}`, {
        method,
        dispatcher: agent,
        headers: { 'content-type': Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
      return { status: r.statusCode, text: await r.body.text() };
    };

    before(async () => {
      d = testDaemon('berth-fault');
      const ctx = modeContext(d.dir);
      tarBody = execFileSync('tar', ['-C', ctx, '-c', 'config.json', 'rootfs']);
      await mode.setup(d.dir);
      await d.start(['--no-runtime-smoke-test', ...mode.args()]);
      agent = new Agent({ connect: { socketPath: d.socket }, pipelining: 0 });
      // One plugin the clients leave alone: enabled through every kill (however slow the machine's enables are).
      await call('POST', '/plugins/create?name=anchor', tarBody);
      assert.equal((await call('POST', '/plugins/anchor/enable?timeout=30')).status, 200);
      anchor = (JSON.parse((await call('GET', '/plugins/anchor/json')).text) as ApiPlugin).Id;
    });
    after(async () => {
      await agent?.close();
      // berthd stops its plugins, then containerd's leftovers go while it still answers (cleanup's `runc delete`
      // and rm behind containerd's back left shims running).
      await stopWithin(d, 20_000);
      await mode.teardown();
      // Nothing may outlive the run: a `runc init` naming a state dir under the test dir is killed, then reported.
      const left = d ? await killRuncInitsUnder(d.dir) : [];
      await d?.cleanup();
      assert.deepEqual(
        left.map((i) => `${i.pid} ${i.stateDir}`),
        [],
        `seed ${seed}: runc init processes left behind`,
      );
    });

    /** One client doing random plugin and runtime operations until `stop` is set; errors are expected. */
    async function client(stop: { now: boolean }): Promise<number> {
      let done = 0;
      while (!stop.now) {
        const name = `p${Math.floor(rnd() * 4)}`;
        const op = pick(['create', 'create', 'enable', 'enable', 'set', 'disable', 'rm', 'reload']);
        try {
          if (op === 'create') await call('POST', `/plugins/create?name=${name}`, tarBody);
          else if (op === 'enable') await call('POST', `/plugins/${name}/enable?timeout=10`);
          else if (op === 'set')
            await call('POST', `/plugins/${name}/set`, JSON.stringify([`MODE=v${done}`]));
          else if (op === 'disable') await call('POST', `/plugins/${name}/disable`);
          else if (op === 'rm') await call('DELETE', `/plugins/${name}?force=${rnd() < 0.5}`);
          else {
            d.writeConfig({
              runtimes: {
                [`r${Math.floor(rnd() * 3)}`]: {
                  path: 'runc',
                  runtimeArgs: [`--log-format=${pick(['text', 'json'])}`],
                },
              },
            });
            await call('POST', '/runtimes/reload');
          }
        } catch {
          // berthd was killed under us
        }
        done++;
      }
      return done;
    }

    /** Everything that must hold after a restart, whatever was interrupted. */
    async function assertConsistent(round: number): Promise<{ plugins: number; enabled: number }> {
      const where = `seed ${seed}, kill ${round}`;
      assert.doesNotMatch(d.log(), /skipping broken plugin/, where);
      const root = join(d.dataRoot, 'plugins');
      const leftovers = readdirSync(root).filter((e) => e === 'tmp' || e.endsWith('-removing'));
      const tmp = existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [];
      assert.deepEqual(tmp, [], `${where}: staging left in plugins/tmp`);
      assert.ok(
        leftovers.every((e) => e === 'tmp'),
        `${where}: ${leftovers.join()}`,
      );
      const plugins = JSON.parse((await call('GET', '/plugins')).text) as ApiPlugin[];
      for (const p of plugins) {
        const files = readdirSync(join(root, p.Id));
        assert.ok(
          files.includes('rootfs') && files.includes('state.json'),
          `${where}: ${p.Name} has ${files.join()}`,
        );
        assert.ok(
          !files.some((f) => f.endsWith('.tmp') || f.includes('next') || f.endsWith('-old')),
          `${where}: ${files.join()}`,
        );
        assert.equal(
          p.Status.State,
          p.Enabled ? 'running' : 'disabled',
          `${where}: ${p.Name}: ${JSON.stringify(p.Status)}`,
        );
        assert.match(p.Settings.Env[0] ?? '', /^MODE=/, `${where}: ${p.Name} settings`);
      }
      const expected = plugins
        .filter((p) => p.Enabled)
        .map((p) => `${p.Id} running`)
        .sort();
      assert.deepEqual(mode.running(d).sort(), expected, `${where}: containers vs enabled plugins`);
      if (mode.sweepsOrphans)
        assert.deepEqual(
          (await runcInitsUnder(d.dir, { unsupervised: true })).map((i) => `${i.pid} ${i.stateDir}`),
          [],
          `${where}: runc init processes under no shim`,
        );
      const names = plugins.map((p) => p.Name);
      assert.equal(new Set(names).size, names.length, `${where}: duplicate names ${names.join()}`);
      const wrappers = existsSync(join(d.dataRoot, 'runtimes'))
        ? readdirSync(join(d.dataRoot, 'runtimes'))
        : [];
      assert.ok(
        wrappers.every((w) => /^r\d\.[0-9a-f]{64}$/.test(w)),
        `${where}: wrappers ${wrappers.join()}`,
      );
      return { plugins: plugins.length, enabled: expected.length };
    }

    it(`stays consistent across ${mode.kills} kills during create/enable/set/disable/rm/reload (seed printed on failure)`, async (t) => {
      t.diagnostic(`BERTH_FAULT_SEED=${seed}`);
      let operations = 0;
      let plugins = 0;
      let enabled = 0;
      let adopted = 0;
      for (let round = 0; round < mode.kills; round++) {
        const stop = { now: false };
        const clients = [client(stop), client(stop), client(stop)];
        await new Promise((r) => setTimeout(r, 20 + rnd() * 400));
        await d.stop('SIGKILL');
        stop.now = true;
        operations += (await Promise.all(clients)).reduce((a, b) => a + b, 0);
        const before = mode.pids(d);
        await d.start(['--no-runtime-smoke-test', ...mode.args()]);
        const seen = await assertConsistent(round);
        plugins += seen.plugins;
        enabled += seen.enabled;
        // The anchor's container outlives every kill and is adopted, never restarted. Another plugin's may be
        // restarted: a disable's SIGTERM in flight at the kill (forwarded by berth-spawner, or a `runc kill`) still
        // stops it after the snapshot.
        const after = mode.pids(d);
        const said = lastLines(d.log(), 'anchor');
        assert.equal(
          after.get(anchor),
          before.get(anchor),
          `seed ${seed}, kill ${round}: anchor restarted:\n${said}`,
        );
        adopted += [...before].filter(([id, pid]) => after.get(id) === pid).length;
      }
      t.diagnostic(
        `${operations} operations interrupted by ${mode.kills} kills; ${plugins} plugins restored, ${enabled} enabled, ${adopted} adopted`,
      );
      assert.ok(enabled > 0, 'no kill found an enabled plugin to restore');
      assert.ok(operations > mode.kills * 3, `only ${operations} operations ran`);
      assert.ok(adopted > 0, 'no running plugin was adopted');
    });
  });
}

describe('a full disk and a vanished runtime binary', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  const berth = (...args: string[]) =>
    spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/berth.js'), '-H', d.host, ...args], {
      encoding: 'utf8',
    });

  before(async () => {
    d = testDaemon('berth-disk');
    ctx = modeContext(d.dir);
    // The data root is a 3 MiB tmpfs: a 4 MiB plugin cannot fit.
    mkdirSync(d.dataRoot, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', d.dataRoot]);
    // A runtime whose binary is a copy we can delete later.
    mkdirSync(join(d.dir, 'bin'));
    copyFileSync(
      execFileSync('which', ['runc'], { encoding: 'utf8' }).trim(),
      join(d.dir, 'bin', 'runc-copy'),
    );
    chmodSync(join(d.dir, 'bin', 'runc-copy'), 0o755);
    d.writeConfig({ runtimes: { copy: { path: join(d.dir, 'bin', 'runc-copy') } } });
    await d.start(['--no-runtime-smoke-test']);
  });
  after(async () => {
    await d?.stop('SIGTERM');
    spawnSync('umount', ['-l', d.dataRoot]);
    await d?.cleanup();
  });

  it('a create that fills the disk fails with a clear error and leaves nothing; the plugins there are intact', () => {
    assert.equal(berth('plugin', 'create', 'small', ctx).status, 0);
    assert.equal(berth('plugin', 'set', 'small', 'MODE=before').status, 0);
    const big = join(d.dir, 'big');
    mkdirSync(join(big, 'rootfs'), { recursive: true });
    copyFileSync(join(ctx, 'config.json'), join(big, 'config.json'));
    writeFileSync(join(big, 'rootfs', 'blob'), Buffer.alloc(4 * 1024 * 1024, 1));
    const r = berth('plugin', 'create', 'big', big);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no space left on device|ENOSPC/i);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'plugins', 'tmp')), []);
    const ls = JSON.parse(berth('plugin', 'ls', '--format', 'json').stdout) as ApiPlugin[];
    assert.deepEqual(
      ls.map((p) => [p.Name, p.Settings.Env]),
      [['small:latest', ['MODE=before']]],
    );
  });

  it('a set on a full disk fails with a clear error and keeps the old settings, also after a restart', async () => {
    const filler = join(d.dataRoot, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' }); // fills the tmpfs
    try {
      const r = berth('plugin', 'set', 'small', `MODE=${'x'.repeat(1000)}`);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /no space left on device|ENOSPC/i);
      const state = readFileSync(
        join(
          d.dataRoot,
          'plugins',
          JSON.parse(berth('plugin', 'inspect', 'small').stdout)[0].Id,
          'state.json',
        ),
        'utf8',
      );
      assert.match(state, /"MODE=before"/);
    } finally {
      rmSync(filler, { force: true });
    }
    await d.stop('SIGKILL');
    await d.start(['--no-runtime-smoke-test']);
    const [p] = JSON.parse(berth('plugin', 'inspect', 'small').stdout);
    assert.deepEqual(p.Settings.Env, ['MODE=before']);
  });

  it('a runtime binary removed while configured: health says so, enable with it fails clearly, berthd stays up', () => {
    assert.equal(berth('plugin', 'create', '--runtime', 'copy', 'uses-copy', ctx).status, 0);
    rmSync(join(d.dir, 'bin', 'runc-copy'));
    const check = berth('runtime', 'check', 'copy');
    assert.match(check.stdout + check.stderr, /unavailable/);
    const enable = berth('plugin', 'enable', 'uses-copy');
    assert.notEqual(enable.status, 0);
    assert.match(enable.stderr, /runc-copy/);
    assert.equal(berth('version').status, 0);
    assert.equal(JSON.parse(berth('plugin', 'inspect', 'uses-copy').stdout)[0].Enabled, false);
  });
});
